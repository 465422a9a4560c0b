package dev.streametl.pipeline;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The product sales of the orders of one partition of the orders change topic, and where their counting stands: one
 * record of the product sales state topic (compacted, keyed by partition). A restart resumes from it instead of reading
 * the topic's history again, and a change counted already (at or below {@link #offset}, streamed before
 * {@link #position}, or at it for an order of {@link #atPosition}) counts nothing. Its size grows with the products,
 * never with the orders.
 *
 * @param partition the partition of the orders change topic
 * @param offset    the offset of the last record counted (-1: none yet)
 * @param snapshot  the snapshot whose rows the counts hold (null: none)
 * @param position  where the last streamed change counted is in the log
 * @param atPosition the orders whose changes at that position are counted (the rows of one WAL record share it)
 * @param counts    the orders of each product in that partition (a product whose orders all went stays, at 0)
 */
@JsonPropertyOrder({ "partition", "offset", "snapshot", "position", "at_position", "counts" })
public record PartitionCounts(
        @JsonProperty("partition") int partition,
        @JsonProperty("offset") long offset,
        @JsonProperty("snapshot") String snapshot,
        @JsonProperty("position") SalesChange.Position position,
        @JsonProperty("at_position") List<String> atPosition,
        @JsonProperty("counts") Map<String, Long> counts) {

    public PartitionCounts {
        if (partition < 0) {
            throw new InvalidRecordException("product sales state of partition " + partition);
        }
        if (counts == null) {
            throw new InvalidRecordException("product sales state of partition " + partition + " has no counts");
        }
        position = position == null ? SalesChange.Position.NONE : position;
        atPosition = atPosition == null ? List.of() : List.copyOf(atPosition);
        counts = Collections.unmodifiableMap(new TreeMap<>(counts));
    }

    /** A partition nothing has been counted of yet. */
    public static PartitionCounts empty(int partition) {
        return new PartitionCounts(partition, -1, null, SalesChange.Position.NONE, List.of(), Map.of());
    }
}
