package dev.streametl.pipeline;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Semaphore;

import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.component.es.ElasticsearchEndpoint;
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
 * In {@code current} mode, an order batch (lookups and writes) and a rewrite never interleave: each holds the writes
 * of enriched orders until it is done. A batch either looks its customers up after an update was put in the table,
 * or is written before the rewrite searches for the customer's orders (after a refresh, so the search sees it).
 * The customer table itself never waits for a batch: an order waiting for its customer does not hold up the table.
 */
public final class CustomerUpdates {

    private static final Logger LOG = LoggerFactory.getLogger(CustomerUpdates.class);
    private static final String REGISTRY_NAME = "etlCustomerUpdates";

    public enum Mode { AS_OF_ORDER, CURRENT }

    private final Mode mode;
    private final String refreshUrl;
    /** The index the enriched orders are searched in; null when the search endpoint is not Elasticsearch (tests). */
    private final String indexName;
    private final Semaphore writes = new Semaphore(1);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    /** Whether enriched orders may have been written since the last refresh. */
    private volatile boolean written = true;

    private CustomerUpdates(Mode mode, String refreshUrl, String indexName) {
        this.mode = mode;
        this.refreshUrl = refreshUrl;
        this.indexName = indexName;
    }

    /** The one instance of the pipeline, shared by the routes that enrich orders and the customer table. */
    public static synchronized CustomerUpdates of(CamelContext context) {
        CustomerUpdates updates = context.getRegistry().lookupByNameAndType(REGISTRY_NAME, CustomerUpdates.class);
        if (updates == null) {
            Mode mode = parse(context.resolvePropertyPlaceholders("{{etl.enrich.customer-updates}}"));
            Endpoint indexedOrders = context.getEndpoint(context.resolvePropertyPlaceholders("{{etl.enrich.indexed-orders}}"));
            String refreshUrl = null;
            String indexName = null;
            if (indexedOrders instanceof ElasticsearchEndpoint elasticsearch) {
                String host = context.resolvePropertyPlaceholders("{{camel.component.elasticsearch.host-addresses}}")
                        .split(",")[0].trim();
                indexName = elasticsearch.getConfiguration().getIndexName();
                refreshUrl = "http://" + host + "/" + indexName + "/_refresh";
            }
            updates = new CustomerUpdates(mode, refreshUrl, indexName);
            context.getRegistry().bind(REGISTRY_NAME, updates);
            LOG.info("Customer updates: {}", mode == Mode.CURRENT
                    ? "current (a customer update rewrites the customer's enriched orders)"
                    : "as-of-order (enriched orders keep the customer as it was when they were enriched)");
        }
        return updates;
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
     * In current mode, holds the writes of enriched orders until this exchange (an order batch, a rewrite) is
     * complete; does nothing in as-of-order mode.
     */
    public void holdWrites(Exchange exchange) {
        if (mode != Mode.CURRENT) {
            return;
        }
        writes.acquireUninterruptibly();
        written = true;
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                writes.release();
            }
        });
    }

    /**
     * Makes every write so far visible to search (only when something may have been written since the last time).
     *
     * @return false when the index does not exist yet (nothing to rewrite), true otherwise
     */
    public boolean refresh() throws IOException, InterruptedException {
        if (refreshUrl == null || !written) {
            return true;
        }
        written = false;
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(refreshUrl))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 404) {
            written = true;
            return false;
        }
        if (response.statusCode() != 200) {
            written = true;
            throw new IOException("Elasticsearch refresh failed (HTTP " + response.statusCode() + "): " + response.body());
        }
        return true;
    }
}
