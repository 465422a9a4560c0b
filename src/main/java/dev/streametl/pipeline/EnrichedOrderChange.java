package dev.streametl.pipeline;

/**
 * What the load stage writes for one order: the enriched order (an upsert) or its deletion. Both sinks are keyed by
 * {@link #id()}, and every write carries {@link #version()}: writing the same change twice leaves the same result, and
 * an older change never overwrites a newer one.
 */
public sealed interface EnrichedOrderChange permits EnrichedOrder, OrderDeletion {

    /** A change read back from a sink, whose version is not known. */
    long UNKNOWN_VERSION = -1;

    /** The order id: Elasticsearch document id and Kafka record key. */
    String id();

    /**
     * The position in the source of the change this write shows (PostgreSQL's LSN, {@link ChangeEvent#position()}): the
     * external version of the Elasticsearch document, and the {@value KafkaRecords#VERSION} header of the Kafka record.
     */
    long version();
}
