package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;

/**
 * Gathers the enriched order changes of a batch, in record order, for one bulk write per sink. Records that ended
 * elsewhere (dead letter topic, unmatched topic) carry no {@link EnrichedOrderChange} and are left out.
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
