package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.caffeine.CaffeineConstants;
import org.apache.camel.support.DefaultExchange;

/**
 * The order enrichment's batch as Camel carries it: the records of a Kafka batch read into an {@link OrderBatch} (the
 * body, from {@link #read} until {@link #toLoad}), joined with the customers that one lookup of the customer table
 * finds ({@link #found}), then the enriched order changes, in record order, for one bulk write per sink. Records that
 * end elsewhere (dead letter topic, unmatched topic) carry no {@link EnrichedOrderChange} and are left out.
 * <p>
 * Beside them, it gathers the commit time at the source of each change (exchange property {@value #SOURCE_TIMESTAMP}
 * of a record), so that the end-to-end lag can be measured once the batch is loaded: the documents themselves carry
 * only the columns of the join.
 */
public final class EnrichedOrderBatch implements AggregationStrategy {

    /** Exchange property of an order change: its commit time at the source, in epoch ms (absent when unknown). */
    public static final String SOURCE_TIMESTAMP = "etlSourceTimestamp";
    /** Exchange property of a batch: the source commit times of its enriched order changes. */
    private static final String SOURCE_TIMESTAMPS = "etlSourceTimestamps";

    /**
     * Reads the records of the batch (body) into an {@link OrderBatch}, which becomes the body. A tombstone only compacts
     * the topic (its delete came just before): skipped. A record that cannot be read is set aside for the dead letter
     * endpoint ({@link DeadLetter#rejected}), and so is one whose join fails.
     */
    public static void read(Exchange exchange, RecordFormat format) {
        OrderBatch<Message> batch = new OrderBatch<>((record, cause) -> DeadLetter.reject(exchange, record, cause));
        for (Message record : KafkaBatch.records(exchange)) {
            if (record.getBody() != null) {
                DeadLetter.processOrReject(exchange, record, () -> format.readChange(record, Order.class))
                        .ifPresent(change -> batch.add(record, change));
            }
        }
        exchange.getMessage().setBody(batch);
    }

    /** The batch, body of the exchange between {@link #read} and {@link #toLoad}. */
    @SuppressWarnings("unchecked")
    public static OrderBatch<Message> batch(Exchange exchange) {
        return exchange.getMessage().getBody(OrderBatch.class);
    }

    /**
     * Asks the customer table for the customers the batch waits for, all at once ({@code GET_ALL}; the table is keyed
     * by the customer id as text, as the customer table route puts it).
     */
    public static void lookup(Exchange exchange) {
        Set<String> keys = new HashSet<>();
        for (int id : batch(exchange).customerIds()) {
            keys.add(String.valueOf(id));
        }
        exchange.getMessage().setHeader(CaffeineConstants.ACTION, CaffeineConstants.ACTION_GET_ALL);
        exchange.getMessage().setHeader(CaffeineConstants.KEYS, keys);
    }

    /**
     * Aggregation of the customer table's answer to the batch's lookup ({@code GET_ALL}: a map of the customers found,
     * by id) into the batch: the join.
     */
    public static Exchange found(Exchange original, Exchange lookup) {
        Map<Integer, Customer> customers = new HashMap<>();
        if (lookup != null && lookup.getMessage().getBody() instanceof Map<?, ?> rows) {
            rows.forEach((id, row) -> {
                if (row instanceof Customer customer) {
                    customers.put(customer.id(), customer);
                }
            });
        }
        batch(original).join(customers);
        return original;
    }

    /**
     * The orders of the batch whose customer never came, as messages for the unmatched route: the record's headers, the
     * order change as body.
     */
    public static List<Message> unmatched(Exchange exchange) {
        List<Message> unmatched = new ArrayList<>();
        batch(exchange).forEachUnmatched((record, change) -> {
            Message message = record.copy();
            message.setBody(change);
            unmatched.add(message);
        });
        return unmatched;
    }

    /** Replaces the batch (body) with its enriched order changes, in record order, and notes their source times. */
    public static void toLoad(Exchange exchange) {
        OrderBatch<Message> batch = batch(exchange);
        exchange.setProperty(SOURCE_TIMESTAMPS, batch.sourceTimestamps());
        exchange.getMessage().setBody(batch.joined());
    }

    @Override
    public Exchange aggregate(Exchange batch, Exchange record) {
        if (batch == null) {
            // a new exchange, not the first record's: a record the error handler took (dead-lettered) is marked
            // handled, and that mark, copied to the batch, would end the route after the split: no load, no commit,
            // and the consumer would go on past the batch
            batch = new DefaultExchange(record.getContext());
            List<EnrichedOrderChange> changes = new ArrayList<>();
            batch.getMessage().setBody(changes);
            batch.setProperty(SOURCE_TIMESTAMPS, new ArrayList<Long>());
            add(batch, changes, record.getMessage().getBody(), record);
            return batch;
        }
        add(batch, batch.getMessage().getBody(List.class), record.getMessage().getBody(), record);
        return batch;
    }

    @SuppressWarnings({ "unchecked", "rawtypes" })
    private static void add(Exchange batch, List changes, Object body, Exchange record) {
        if (record.getException() != null) {
            // a record that neither got through nor reached the dead letter endpoint (which failed too): the batch
            // fails with it, so it is processed again instead of committed without that record
            batch.setException(record.getException());
            return;
        }
        if (body instanceof EnrichedOrderChange change) {
            changes.add(change);
            Long committed = record.getProperty(SOURCE_TIMESTAMP, Long.class);
            if (committed != null) {
                batch.getProperty(SOURCE_TIMESTAMPS, List.class).add(committed);
            }
        }
    }

    /** The source commit times of the enriched order changes of the batch (none if unknown). */
    public static List<Long> sourceTimestamps(Exchange batch) {
        List<?> timestamps = batch.getProperty(SOURCE_TIMESTAMPS, List.class);
        return timestamps == null ? List.of() : timestamps.stream().map(Long.class::cast).toList();
    }

    @Override
    public void onCompletion(Exchange batch, Exchange original) {
        if (batch != null && !(batch.getMessage().getBody() instanceof List<?>)) {
            batch.getMessage().setBody(new ArrayList<>());
        }
    }
}
