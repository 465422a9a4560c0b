package dev.streametl.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;

/**
 * Records of a Kafka batch (a kafka: consumer with {@code batching=true} delivers a list of exchanges), and the commit
 * of their offsets once the whole batch is written. When the source is not a batching consumer (direct: in tests),
 * the message itself is the only record.
 */
public final class KafkaBatch {

    private static final String OFFSETS = "etlKafkaBatchOffsets";

    private KafkaBatch() {
    }

    /** The records of the batch, in order, as messages with their Kafka headers (key, topic, partition, offset). */
    public static List<Message> records(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        if (body instanceof List<?> list && (list.isEmpty() || list.get(0) instanceof Exchange)) {
            return list.stream().map(e -> ((Exchange) e).getMessage()).toList();
        }
        return List.of(exchange.getMessage());
    }

    /**
     * Notes, before the batch is processed, where each partition of the batch ends. Processing replaces the body, so
     * the offsets are kept in an exchange property until {@link #commit(Exchange)}.
     */
    public static void rememberOffsets(Exchange exchange) {
        Map<String, KafkaManualCommit> lastPerPartition = new LinkedHashMap<>();
        for (Message record : records(exchange)) {
            KafkaManualCommit commit = record.getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
            if (commit != null) {
                lastPerPartition.put(record.getHeader(KafkaConstants.TOPIC) + "-"
                        + record.getHeader(KafkaConstants.PARTITION), commit);
            }
        }
        exchange.setProperty(OFFSETS, List.copyOf(lastPerPartition.values()));
        BatchFence.open(exchange, lastPerPartition.values());
    }

    /**
     * Commits the offsets of the batch: for each partition, the offset after its last record. Called once every sink
     * has acknowledged, so that a crash before this point replays the batch (at least once) and never skips it. A
     * batch its partitions' new owner has loaded again ({@link BatchFence}) is not committed.
     */
    public static void commit(Exchange exchange) {
        List<?> commits = exchange.getProperty(OFFSETS, List.class);
        if (commits != null && BatchFence.holds(exchange)) {
            commits.forEach(commit -> ((KafkaManualCommit) commit).commit());
        }
    }
}
