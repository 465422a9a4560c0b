package dev.streametl.pipeline;

import java.io.IOException;
import java.util.Locale;
import java.util.TreeSet;

import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a customer update means for the orders already enriched ({@code etl.enrich.customer-updates}):
 * <ul>
 * <li>{@code as-of-order} (the reference lab's meaning): nothing; an order keeps the customer as it was when the
 * order was enriched;</li>
 * <li>{@code current}: the customer's already-indexed orders are rewritten with the new customer fields (search +
 * bulk) and emitted again, so that once the pipeline is idle the index equals the join of the final tables.</li>
 * </ul>
 * In {@code current} mode the customer table never waits: a customer is in the table as soon as its change is read,
 * and the rewrites happen beside it, batched ({@link CustomerRewrite}, driven by {@link CustomerBacklog}). What keeps
 * a rewrite right without a lock: an order batch started after a customer was put in the table looks that customer up
 * as it is now; only a batch started before may write the customer's old fields. So a rewrite first waits until every
 * order batch started before its customers were applied is done ({@link #awaitBatchesUpTo(long)}), then makes the
 * index searchable ({@link #refresh()}) and searches: every stale order is there to be found. The batches never wait
 * for a rewrite, and a batch waiting for a customer never holds up the table that will bring it.
 */
public final class CustomerUpdates {

    private static final Logger LOG = LoggerFactory.getLogger(CustomerUpdates.class);

    public enum Mode { AS_OF_ORDER, CURRENT }

    private final Mode mode;
    /** The Elasticsearch of the enriched orders; null when the search endpoint is not Elasticsearch (tests). */
    private final ElasticsearchConnection elasticsearch;
    /** The index the enriched orders are searched in; null when the search endpoint is not Elasticsearch (tests). */
    private final String indexName;
    /** Order batches started so far (current mode): the number of the last one. */
    private long batchesStarted;
    /** The numbers of the order batches not done yet. */
    private final TreeSet<Long> batchesInFlight = new TreeSet<>();

    private CustomerUpdates(Mode mode, ElasticsearchConnection elasticsearch, String indexName) {
        this.mode = mode;
        this.elasticsearch = elasticsearch;
        this.indexName = indexName;
    }

    /**
     * How customer updates reach the enriched orders ({@code etl.enrich.customer-updates}: as-of-order or current),
     * shared by the routes that enrich orders and the customer table; {@code elasticsearch} and {@code indexName} are
     * where the current mode finds a customer's orders (null when the orders are not written to Elasticsearch).
     */
    public static CustomerUpdates from(String mode, ElasticsearchConnection elasticsearch, String indexName) {
        Mode parsed = parse(mode);
        LOG.info("Customer updates: {}", parsed == Mode.CURRENT
                ? "current (a customer update rewrites the customer's enriched orders)"
                : "as-of-order (enriched orders keep the customer as it was when they were enriched)");
        return new CustomerUpdates(parsed, elasticsearch, indexName);
    }

    static Mode parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "as-of-order" -> Mode.AS_OF_ORDER;
            case "current" -> Mode.CURRENT;
            default -> throw new IllegalArgumentException(
                    "etl.enrich.customer-updates must be as-of-order or current, not '" + value + "'");
        };
    }

    /** The index the enriched orders are searched in, or null when the search endpoint is not Elasticsearch. */
    public String indexName() {
        return indexName;
    }

    public boolean isCurrent() {
        return mode == Mode.CURRENT;
    }

    /**
     * In current mode, notes an order batch (its lookups and writes) until this exchange is complete, for the rewrites
     * that must wait for it ({@link #awaitBatchesUpTo(long)}); does nothing in as-of-order mode. Never waits.
     */
    public void trackBatch(Exchange exchange) {
        if (mode != Mode.CURRENT) {
            return;
        }
        long batch;
        synchronized (this) {
            batch = ++batchesStarted;
            batchesInFlight.add(batch);
        }
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                synchronized (CustomerUpdates.this) {
                    batchesInFlight.remove(batch);
                    CustomerUpdates.this.notifyAll();
                }
            }
        });
    }

    /** The number of the last order batch started: every batch started later looks customers up after this moment. */
    public synchronized long batchesStarted() {
        return batchesStarted;
    }

    /** Waits until every order batch up to this number is done (loaded, or given up). */
    public synchronized void awaitBatchesUpTo(long batch) throws InterruptedException {
        long since = System.currentTimeMillis();
        while (!batchesInFlight.isEmpty() && batchesInFlight.first() <= batch) {
            wait(1000);
            if (System.currentTimeMillis() - since > 60_000) {
                LOG.info("A customer rewrite still waits for order batch {} to be done", batchesInFlight.first());
                since = System.currentTimeMillis();
            }
        }
    }

    /**
     * Makes every write so far visible to search.
     *
     * @return false when the index does not exist yet (nothing to rewrite), true otherwise
     */
    public boolean refresh() throws IOException, InterruptedException {
        if (elasticsearch == null) {
            return true;
        }
        ElasticsearchConnection.Answer answer = elasticsearch.call("POST", "/" + indexName + "/_refresh", null);
        if (answer.status() == 404) {
            return false;
        }
        if (answer.status() != 200) {
            throw new IOException("Elasticsearch refresh failed: " + answer.describe());
        }
        return true;
    }
}
