package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * Gathers the enriched order changes of a batch, in record order, for one bulk write per sink. Records that ended
 * elsewhere (dead letter topic, unmatched topic) carry no {@link EnrichedOrderChange} and are left out.
 */
public final class EnrichedOrderBatch implements AggregationStrategy {

    @Override
    public Exchange aggregate(Exchange batch, Exchange record) {
        if (batch == null) {
            batch = record;
            Object first = record.getMessage().getBody();
            List<EnrichedOrderChange> changes = new ArrayList<>();
            batch.getMessage().setBody(changes);
            add(changes, first);
            return batch;
        }
        add(batch.getMessage().getBody(List.class), record.getMessage().getBody());
        return batch;
    }

    @SuppressWarnings({ "unchecked", "rawtypes" })
    private static void add(List changes, Object body) {
        if (body instanceof EnrichedOrderChange change) {
            changes.add(change);
        }
    }

    @Override
    public void onCompletion(Exchange batch, Exchange original) {
        if (batch != null && !(batch.getMessage().getBody() instanceof List<?>)) {
            batch.getMessage().setBody(new ArrayList<>());
        }
    }
}
