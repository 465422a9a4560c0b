package dev.streametl.pipeline;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far a state rebuilt from a topic (the customer table, the unmatched orders) has read: the offset of the last
 * record it applied, per partition. A record at or below it is a replay and is skipped, so the state never goes back
 * in time.
 * <p>
 * Why: such a state is read by a kafka: consumer without a consumer group of its own (a random one) that seeks to the
 * beginning of the topic on every partition assignment, not only the first: a rejoin (a pause longer than the session
 * timeout, a Kafka restart) reads the topic again from the start, and would put every old version of a customer back
 * in the table, one after the other, while orders are joined with it. Skipping what was applied keeps the table at its
 * latest version through a rejoin; the rejoin only costs reading the (compacted) topic again. Reading without a
 * consumer group (assign, as Kafka Streams' global tables do) would avoid even that, but camel-kafka always subscribes.
 * <p>
 * A record that is not from Kafka (direct: in tests) has no offset: it is never taken for a replay.
 */
public final class AppliedOffsets {

    private static final Logger LOG = LoggerFactory.getLogger(AppliedOffsets.class);

    private final String name;
    private final Map<Integer, Long> applied = new ConcurrentHashMap<>();
    /** Per partition, while a replay is being skipped: how many records were skipped so far. */
    private final Map<Integer, Long> skipping = new ConcurrentHashMap<>();

    /** @param name what reads the topic, for the log */
    public AppliedOffsets(String name) {
        this.name = name;
    }

    /** Whether the record was not applied yet (false for a replay of a record already applied). */
    public boolean isNew(Exchange exchange) {
        Message record = exchange.getMessage();
        Integer partition = record.getHeader(KafkaConstants.PARTITION, Integer.class);
        Long offset = record.getHeader(KafkaConstants.OFFSET, Long.class);
        if (partition == null || offset == null) {
            return true;
        }
        long last = applied.getOrDefault(partition, -1L);
        if (offset > last) {
            Long skipped = skipping.remove(partition);
            if (skipped != null) {
                LOG.info("{}: partition {} read again up to offset {} after a rejoin, {} records already applied skipped",
                        name, partition, last, skipped);
            }
            return true;
        }
        if (skipping.merge(partition, 1L, Long::sum) == 1) {
            LOG.info("{}: partition {} is read again from offset {} (a rejoin seeks to the beginning): records up to offset"
                     + " {}, already applied, are skipped", name, partition, offset, last);
        }
        return false;
    }

    /** Notes that the record was dealt with (applied, dead-lettered or skipped). */
    public void applied(Exchange exchange) {
        Message record = exchange.getMessage();
        Integer partition = record.getHeader(KafkaConstants.PARTITION, Integer.class);
        Long offset = record.getHeader(KafkaConstants.OFFSET, Long.class);
        if (partition != null && offset != null) {
            applied.merge(partition, offset, Math::max);
        }
    }
}
