package dev.streametl.pipeline;

/**
 * What the load stage writes for one order: the enriched order (an upsert) or its deletion. Both sinks are keyed by
 * {@link #id()}, so writing the same change twice leaves the same result.
 */
public sealed interface EnrichedOrderChange permits EnrichedOrder, OrderDeletion {

    /** The order id: Elasticsearch document id and Kafka record key. */
    String id();
}
