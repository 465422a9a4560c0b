package dev.streametl.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One order change as the load stage writes it to both sinks: the change, and the JSON of its enriched order (none for
 * a deletion), made once per batch before the batch goes to both sinks: the same bytes are the Elasticsearch document
 * and, in JSON format, the Kafka record's value. It lives as long as its batch.
 */
public record OrderWrite(EnrichedOrderChange change, byte[] json) {

    public OrderWrite {
        Objects.requireNonNull(change, "change");
        if ((change instanceof EnrichedOrder) != (json != null)) {
            throw new IllegalArgumentException("an enriched order, and only one, has JSON: " + change);
        }
    }

    /** The write of a change: its order's JSON made here. */
    public static OrderWrite of(EnrichedOrderChange change) {
        return new OrderWrite(change, change instanceof EnrichedOrder order ? Json.writeBytes(order) : null);
    }

    /**
     * The writes of a batch of enriched order changes, in order. A batch already made of writes is taken as it is: the
     * load route makes them once for both sinks, and a sink given changes directly (a test, a benchmark) makes its own.
     */
    public static List<OrderWrite> ofBatch(List<?> batch) {
        List<OrderWrite> writes = new ArrayList<>(batch.size());
        for (Object each : batch) {
            writes.add(each instanceof OrderWrite write ? write : of((EnrichedOrderChange) each));
        }
        return writes;
    }

    /** The JSON as text (null for a deletion): what a string serializer encodes back to the same bytes. */
    public String jsonText() {
        return json == null ? null : new String(json, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "OrderWrite[" + change + (json == null ? "" : ", " + jsonText()) + "]";
    }
}
