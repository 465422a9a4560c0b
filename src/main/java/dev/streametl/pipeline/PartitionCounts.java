package dev.streametl.pipeline;

import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The product sales of the orders of one partition of the counted topic, and the offset of the last record they
 * include: one record of the product sales state topic (compacted, keyed by partition), so that a restart resumes from
 * {@link #offset} instead of reading the topic's history again, and a replay of a record at or below it counts nothing.
 * Its size grows with the products, never with the orders.
 *
 * @param partition the partition of the counted topic
 * @param offset    the offset of the last record counted (-1: none yet)
 * @param counts    the orders of each product in that partition (a product whose orders all went stays, at 0)
 */
@JsonPropertyOrder({ "partition", "offset", "counts" })
public record PartitionCounts(
        @JsonProperty("partition") int partition,
        @JsonProperty("offset") long offset,
        @JsonProperty("counts") Map<String, Long> counts) {

    public PartitionCounts {
        if (partition < 0) {
            throw new InvalidRecordException("product sales state of partition " + partition);
        }
        if (counts == null) {
            throw new InvalidRecordException("product sales state of partition " + partition + " has no counts");
        }
        counts = java.util.Collections.unmodifiableMap(new TreeMap<>(counts));
    }

    /** A partition nothing has been counted of yet. */
    public static PartitionCounts empty(int partition) {
        return new PartitionCounts(partition, -1, Map.of());
    }
}
