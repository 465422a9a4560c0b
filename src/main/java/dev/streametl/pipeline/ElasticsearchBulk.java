package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import co.elastic.clients.elasticsearch._types.VersionType;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.elasticsearch.core.bulk.DeleteOperation;
import co.elastic.clients.elasticsearch.core.bulk.IndexOperation;
import co.elastic.clients.util.BinaryData;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One bulk write to an elasticsearch: endpoint ({@code operation=Bulk}, index named on the endpoint), followed to the
 * end: each document is written under its own id (a replay overwrites, never duplicates), and the result of every
 * item is checked:
 * <ul>
 * <li>an item ES could not take now (429 too many requests, 5xx) is sent again, alone with the other such items,
 * after an exponential backoff, until it is written; so is the whole bulk when ES cannot be reached: an overloaded,
 * failing or stopped cluster stalls the batch, loses nothing;</li>
 * <li>an item ES rejects (a 4xx: a document the mapping refuses, say) is given up with ES's reason, for the dead
 * letter endpoint; the rest of the batch is kept.</li>
 * </ul>
 * Within a batch only the last change of each document is written: the earlier ones would be overwritten anyway. An
 * enriched order is written with its version as ES's external version ({@link EnrichedOrderChange#version()}): ES
 * refuses a write older than the document it has ({@code external_gte}: HTTP 409, a version conflict), which means that something newer is
 * already there, and is taken as done. So a replay, or a batch loaded again by another consumer while this one still
 * retried it, never puts an older order back.
 * <p>
 * A sink that answers without per-item results (a stage swapped for mock: or another endpoint) is taken as having
 * written every item. The bulk travels with the exchange (property {@value #PROPERTY}) between the steps of the loop
 * of the route template {@code ElasticsearchRoutes} (the routes).
 */
public final class ElasticsearchBulk {

    private static final Logger LOG = LoggerFactory.getLogger(ElasticsearchBulk.class);

    public static final String PROPERTY = "etlElasticsearchBulk";
    /** Header of a rejected document sent to the dead letter endpoint: the index that refused it. */
    public static final String INDEX = "etl.index";

    private static final long FIRST_BACKOFF_MILLIS = 500;
    private static final long MAX_BACKOFF_MILLIS = 30_000;

    /**
     * One document write: its id, its bulk operation, and the document for a dead letter if ES rejects it (written as
     * JSON: a {@link JsonDocument} is its own JSON). The operation is made anew for each attempt: the client's builders
     * can be built only once.
     */
    private record Write(String id, Supplier<Object> operation, Object document) {
    }

    private List<Write> pending;
    private final int size;
    private final List<Message> rejected = new ArrayList<>();
    private int attempts;
    private int stale;

    private ElasticsearchBulk(List<Write> writes) {
        Map<String, Write> lastPerId = new LinkedHashMap<>();
        for (Write write : writes) {
            lastPerId.remove(write.id());
            lastPerId.put(write.id(), write);
        }
        this.pending = new ArrayList<>(lastPerId.values());
        this.size = pending.size();
    }

    /**
     * Starts the bulk of a batch of enriched order changes (body: {@link OrderWrite}s, or changes whose JSON is made
     * here): an index or a delete per order. An order's document is its JSON as the load stage made it, sent as it is.
     */
    public static void ofEnrichedOrders(Exchange exchange) {
        List<OrderWrite> orderWrites = OrderWrite.ofBatch(exchange.getMessage().getBody(List.class));
        List<Write> writes = new ArrayList<>(orderWrites.size());
        for (OrderWrite orderWrite : orderWrites) {
            EnrichedOrderChange change = orderWrite.change();
            // external versions: ES itself refuses a write older than the document's (or its deletion's) version; one
            // of the same version is the same change again (a replay) or a rewrite of its customer fields: written
            if (change instanceof EnrichedOrder order) {
                JsonDocument document = new JsonDocument(orderWrite.json());
                writes.add(new Write(order.id(), () -> new IndexOperation.Builder<BinaryData>().id(order.id())
                        .document(document).version(order.version()).versionType(VersionType.ExternalGte), document));
            } else {
                writes.add(new Write(change.id(), () -> new DeleteOperation.Builder().id(change.id())
                        .version(change.version()).versionType(VersionType.ExternalGte), change));
            }
        }
        exchange.setProperty(PROPERTY, new ElasticsearchBulk(writes));
    }

    /**
     * Starts the bulk of a batch of product sales (body): one document per product code, at the version of the counts
     * they were summed from ({@link ProductSalesStage#VERSION}, the state topic's offset), so that Elasticsearch keeps the
     * newest whichever instance publishes it last.
     */
    public static void ofProductSales(Exchange exchange) {
        List<?> sales = exchange.getMessage().getBody(List.class);
        long version = exchange.getProperty(ProductSalesStage.VERSION, Long.class);
        List<Write> writes = new ArrayList<>(sales.size());
        for (Object each : sales) {
            ProductSales productSales = (ProductSales) each;
            writes.add(new Write(productSales.productCode(), () -> new IndexOperation.Builder<ProductSales>()
                    .id(productSales.productCode()).document(productSales)
                    .version(version).versionType(VersionType.ExternalGte), productSales));
        }
        exchange.setProperty(PROPERTY, new ElasticsearchBulk(writes));
    }

    private static ElasticsearchBulk of(Exchange exchange) {
        return exchange.getProperty(PROPERTY, ElasticsearchBulk.class);
    }

    /** Whether some documents remain to be written. */
    public static boolean hasPending(Exchange exchange) {
        return !of(exchange).pending.isEmpty();
    }

    /** Whether the coming attempt sends documents again (some or all of the last attempt's). */
    public static boolean isRetry(Exchange exchange) {
        return of(exchange).attempts > 0;
    }

    /** How long to wait before this attempt: nothing the first time, then 0.5 s doubling up to 30 s. */
    public static long backoffMillis(Exchange exchange) {
        int attempts = of(exchange).attempts;
        return attempts == 0 ? 0 : Math.min(MAX_BACKOFF_MILLIS, FIRST_BACKOFF_MILLIS << Math.min(attempts - 1, 16));
    }

    /** The bulk operations of this attempt, as the endpoint takes them. */
    public static List<Object> operations(Exchange exchange) {
        ElasticsearchBulk bulk = of(exchange);
        bulk.attempts++;
        return bulk.pending.stream().map(write -> write.operation().get()).toList();
    }

    /** Reads the per-item results of the attempt (body): keeps what must be sent again, sets aside what ES rejected. */
    public static void checkItems(Exchange exchange) {
        ElasticsearchBulk bulk = of(exchange);
        List<?> items = exchange.getMessage().getBody(List.class);
        if (items == null || items.size() != bulk.pending.size()
                || !items.stream().allMatch(BulkResponseItem.class::isInstance)) {
            bulk.pending = List.of(); // no per-item results: a sink other than ES took the whole batch
            return;
        }
        List<Write> again = new ArrayList<>();
        String firstRetryReason = null;
        for (int i = 0; i < items.size(); i++) {
            BulkResponseItem item = (BulkResponseItem) items.get(i);
            if (item.error() == null) {
                continue;
            }
            if (item.status() == 409) {
                bulk.stale++; // a version conflict: ES has a newer change of this document, which must stay
                continue;
            }
            Write write = bulk.pending.get(i);
            String reason = item.error().type() + ": " + item.error().reason();
            if (item.status() == 429 || item.status() >= 500) {
                again.add(write);
                firstRetryReason = firstRetryReason == null ? "HTTP " + item.status() + " " + reason : firstRetryReason;
            } else {
                bulk.rejected.add(deadLetter(exchange, item, write, reason));
            }
        }
        if (!again.isEmpty()) {
            LOG.warn("Elasticsearch could not write {} of {} documents (attempt {}, first: {}): sending them again",
                    again.size(), items.size(), bulk.attempts, firstRetryReason);
        }
        bulk.pending = again;
    }

    /** The whole attempt failed (ES unreachable, a timeout): every pending document is sent again after a backoff. */
    public static void attemptFailed(Exchange exchange) {
        ElasticsearchBulk bulk = of(exchange);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        LOG.warn("Elasticsearch bulk of {} documents failed (attempt {}): {}: sending it again", bulk.pending.size(),
                bulk.attempts, cause == null ? "unknown error" : DeadLetter.reason(rootCause(cause)));
    }

    private static Throwable rootCause(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** How many writes of the finished bulk ES skipped as older than what it has (version conflicts). */
    public static int stale(Exchange exchange) {
        ElasticsearchBulk bulk = of(exchange);
        return bulk == null ? 0 : bulk.stale;
    }

    /** How many documents the finished bulk wrote: all but the ones ES rejected, found stale, or never took. */
    public static int written(Exchange exchange) {
        ElasticsearchBulk bulk = of(exchange);
        return bulk == null ? 0 : bulk.size - bulk.rejected.size() - bulk.pending.size() - bulk.stale;
    }

    /** The documents ES rejected, as dead letter messages with ES's reason. */
    public static List<Message> rejected(Exchange exchange) {
        ElasticsearchBulk bulk = of(exchange);
        return bulk == null ? List.of() : bulk.rejected;
    }

    private static Message deadLetter(Exchange exchange, BulkResponseItem item, Write write, String reason) {
        Message message = new DefaultMessage(exchange);
        message.setBody(Json.write(write.document()));
        message.setHeader(DeadLetter.ERROR, "Elasticsearch rejected document " + write.id() + " (HTTP " + item.status()
                + "): " + reason);
        message.setHeader(INDEX, item.index());
        message.setHeader(DeadLetter.ROUTE, exchange.getFromRouteId());
        LOG.warn("Dead letter: Elasticsearch rejected document {} of index {}: {}", write.id(), item.index(), reason);
        return message;
    }
}
