package dev.streametl.pipeline;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.camel.component.kafka.KafkaEndpoint;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualCommit;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.apache.camel.support.CamelContextHelper;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a consumer from writing a batch that is no longer its own. A batch that outlives Kafka's
 * {@code max.poll.interval.ms} (an Elasticsearch outage, a paused process) loses its partitions: their new owner
 * loads the same records again, and may load newer changes of the same keys after them. The old owner, still retrying,
 * must then stop: before each write it makes after the batch has aged ({@value #CHECK_AFTER_MILLIS} ms), it asks
 * Kafka whether the consumer group has committed beyond the batch; if so the batch is dropped here, unwritten and
 * uncommitted. Versions close the rest of the window: Elasticsearch refuses an older version, and the readers of the
 * enriched orders topic ignore one ({@link KafkaRecords#VERSION}).
 */
public final class BatchFence {

    private static final Logger LOG = LoggerFactory.getLogger(BatchFence.class);
    private static final String PROPERTY = "etlBatchFence";
    static final long CHECK_AFTER_MILLIS = 5_000;
    private final KafkaAdmins admins;
    private final KafkaConfiguration kafka;
    private final String group;
    /** The offset of the last record of the batch, per partition. */
    private final Map<TopicPartition, Long> lastOffsets;
    private final long polledNanos = System.nanoTime();
    private volatile boolean lost;

    private BatchFence(KafkaAdmins admins, KafkaConfiguration kafka, String group, Map<TopicPartition, Long> lastOffsets) {
        this.admins = admins;
        this.kafka = kafka;
        this.group = group;
        this.lastOffsets = lastOffsets;
    }

    /** Sets up the fence of a batch from a group consumer (on its thread), from the manual commits of its records. */
    static void open(Exchange batch, Iterable<KafkaManualCommit> lastCommits) {
        if (!(batch.getFromEndpoint() instanceof KafkaEndpoint kafka) || kafka.getConfiguration().getGroupId() == null) {
            return;
        }
        Map<TopicPartition, Long> last = new HashMap<>();
        for (KafkaManualCommit commit : lastCommits) {
            if (commit instanceof DefaultKafkaManualCommit manual) {
                last.put(manual.getPartition(), manual.getRecordOffset());
            }
        }
        if (!last.isEmpty()) {
            KafkaAdmins admins = CamelContextHelper.mandatoryLookup(batch.getContext(), KafkaAdmins.BEAN, KafkaAdmins.class);
            batch.setProperty(PROPERTY, new BatchFence(admins, kafka.getConfiguration(),
                    kafka.getConfiguration().getGroupId(), last));
        }
    }

    /**
     * Whether this batch may still be written (and committed): true unless the consumer group has committed beyond it
     * since. Always true for what does not come from a group's batch (a rewrite, a test). Asks Kafka only once the batch
     * has aged; a failure to ask leaves the batch to its owner (it is retried like any write).
     */
    public static boolean holds(Exchange exchange) {
        BatchFence fence = exchange.getProperty(PROPERTY, BatchFence.class);
        if (fence == null) {
            return true;
        }
        if (fence.lost) {
            return false;
        }
        if (System.nanoTime() - fence.polledNanos < TimeUnit.MILLISECONDS.toNanos(CHECK_AFTER_MILLIS)) {
            return true;
        }
        try {
            fence.lost = fence.committedBeyond();
        } catch (Exception e) {
            LOG.debug("Cannot read the committed offsets of group {}: {}", fence.group, e.toString());
            return true;
        }
        if (fence.lost) {
            LOG.warn("A batch of {} was loaded again by the new owner of its partitions (the group committed beyond it):"
                     + " dropped here, neither written nor committed", fence.lastOffsets.keySet());
        }
        return !fence.lost;
    }

    private boolean committedBeyond() throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admins.of(kafka).listConsumerGroupOffsets(Map.of(group,
                new ListConsumerGroupOffsetsSpec().topicPartitions(lastOffsets.keySet())))
                .partitionsToOffsetAndMetadata(group).get(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
        for (Map.Entry<TopicPartition, Long> last : lastOffsets.entrySet()) {
            OffsetAndMetadata offset = committed.get(last.getKey());
            if (offset != null && offset.offset() > last.getValue()) { // the next offset to read: past our last record
                return true;
            }
        }
        return false;
    }
}
