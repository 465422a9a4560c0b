package dev.streametl.pipeline;

/** An order deleted at the source: its document is deleted and a tombstone is written to the topic. */
public record OrderDeletion(int orderId, long version) implements EnrichedOrderChange {

    @Override
    public String id() {
        return String.valueOf(orderId);
    }
}
