package dev.streametl.pipeline;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JavaType;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Predicate;
import org.apache.camel.component.debezium.DebeziumConstants;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TRUNCATE of a captured table, as the changes it stands for: one delete per row the table had, each followed by its
 * tombstone, so that every stage downstream does what it does for a delete (the order's document removed, its
 * enriched record tombstoned, its sale taken back; the customer dropped from the customer table) and the compacted
 * change topic forgets the rows.
 * <p>
 * PostgreSQL's log says only "this table was truncated", not which rows it had. The change topic knows: it holds the
 * latest change of every row. So the capture, the topic's one writer, waits until Kafka has acknowledged every change
 * handed over before the truncate, reads the topic to its end, and turns each row still there into a delete dated by
 * the truncate's position in the log. A row whose latest change comes after the truncate (a replay after a crash: the
 * truncate is captured again after the rows inserted since) is left alone, and a replayed delete is refused downstream
 * as older than what is there. Reading the topic takes as long as the table's history on it; a truncate is rare.
 */
public final class TableTruncation {

    /** A captured TRUNCATE: Debezium's operation {@code t} (with {@code skipped-operations} not skipping it). */
    public static final Predicate IS_TRUNCATE = exchange -> "t".equals(
            exchange.getMessage().getHeader(DebeziumConstants.HEADER_OPERATION, String.class));

    /**
     * Header of each of the deletes a TRUNCATE stands for: they all share the truncate's position in the log, so a
     * reader that counts changes by their position ({@link ProductSalesStage}) must tell them from a change sent again.
     */
    public static final String TRUNCATED = "etl.truncated";

    private static final Logger LOG = LoggerFactory.getLogger(TableTruncation.class);
    private static final JavaType CHANGE = Json.MAPPER.getTypeFactory()
            .constructParametricType(ChangeEvent.class, Json.MAPPER.getTypeFactory()
                    .constructMapType(Map.class, String.class, Object.class));

    private final CapturePublications publications;
    private final Supplier<Properties> kafkaClient;
    private final Duration timeout;
    private final RecordFormat format;

    /**
     * @param publications the changes handed over and not acknowledged yet (waited for before the topic is read)
     * @param kafkaClient  the brokers and security settings of the pipeline's Kafka clients
     * @param timeout      how long to wait for Kafka; a failure is retried like any server's
     */
    public TableTruncation(CapturePublications publications, Supplier<Properties> kafkaClient, Duration timeout) {
        this(publications, kafkaClient, timeout, RecordFormat.json());
    }

    /** @param format how the change topics' records are written (read back, the deletes written alike) */
    public TableTruncation(CapturePublications publications, Supplier<Properties> kafkaClient, Duration timeout,
                           RecordFormat format) {
        this.publications = publications;
        this.kafkaClient = kafkaClient;
        this.timeout = timeout;
        this.format = format;
    }

    /**
     * Turns the captured truncate (the body: its change envelope as mapped by {@link ChangeEventMapper}, the change
     * topic in Debezium's identifier header) into the deletes of the rows live on the topic before it: the body becomes
     * the list of their keyed records.
     */
    public void deletes(Exchange exchange) throws Exception {
        Message message = exchange.getMessage();
        String topic = message.getHeader(DebeziumConstants.HEADER_IDENTIFIER, String.class);
        ChangeEvent<Map<String, Object>> truncate = Json.read(message.getBody(String.class), CHANGE);
        if (truncate.source() == null || !(truncate.source().get("lsn") instanceof Number position)) {
            throw new InvalidRecordException("a TRUNCATE of " + topic + " with no position in the source (source.lsn)");
        }
        publications.awaitAcknowledged(timeout);
        List<KeyedChange> deletes = new ArrayList<>();
        latestChanges(topic).forEach((key, latest) -> {
            if (latest.change().position() < position.longValue()) {
                deletes.add(new KeyedChange(key, format.truncatedDelete(topic, latest.value(), latest.change(),
                        truncate.source(), truncate.tsMs())));
            }
        });
        LOG.info("TRUNCATE of {} at position {}: {} rows deleted downstream", topic, position, deletes.size());
        message.setBody(deletes);
    }

    /** One of the deletes as the captured change to hand over: its key, its envelope, operation {@code d}. */
    public static void handOver(Exchange exchange) {
        Message message = exchange.getMessage();
        KeyedChange change = message.getBody(KeyedChange.class);
        message.setHeader(KafkaConstants.KEY, change.key());
        message.setHeader(DebeziumConstants.HEADER_OPERATION, "d");
        message.setHeader(TRUNCATED, "true");
        message.setBody(change.value());
    }

    /** The latest change of a row on the topic: the record's value as read, and the change it holds. */
    private record LatestChange(Object value, ChangeEvent<Map<String, Object>> change) {
    }

    /**
     * The latest change of every row on the topic, by key (text in JSON, the key's bytes in Avro); a row deleted
     * (tombstone, delete) is not there.
     */
    private Map<Object, LatestChange> latestChanges(String topic) {
        Properties config = kafkaClient.get();
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        Map<ByteBuffer, byte[]> latest = new HashMap<>(); // by the key's bytes (a ByteBuffer compares its content)
        try (KafkaConsumer<byte[], byte[]> consumer =
                     new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos() * 10;
            while (partitions.stream().anyMatch(p -> consumer.position(p, timeout) < ends.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topic + " to its end took over "
                            + timeout.toSeconds() * 10 + " s");
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (record.key() == null) {
                        continue; // not a row's change: no row to delete
                    }
                    if (record.value() == null) {
                        latest.remove(ByteBuffer.wrap(record.key()));
                    } else {
                        latest.put(ByteBuffer.wrap(record.key()), record.value());
                    }
                }
            }
        }
        Map<Object, LatestChange> rows = new HashMap<>();
        latest.forEach((keyBytes, valueBytes) -> {
            Object key = format.isAvro() ? keyBytes.array() : new String(keyBytes.array(), StandardCharsets.UTF_8);
            Object value = format.isAvro() ? valueBytes : new String(valueBytes, StandardCharsets.UTF_8);
            try {
                // read as every stage reads a change (known operation, its row, a position), the row kept as a map
                @SuppressWarnings("unchecked")
                ChangeEvent<Map<String, Object>> change =
                        (ChangeEvent<Map<String, Object>>) (ChangeEvent<?>) format.readChange(value, Map.class);
                if (!change.isDelete()) {
                    rows.put(key, new LatestChange(value, change));
                }
            } catch (InvalidRecordException e) { // already dead-lettered downstream when it was read
                LOG.warn("TRUNCATE of {}: the latest record of key {} is not a change, skipped: {}", topic,
                        key instanceof byte[] bytes ? Arrays.toString(bytes) : key, e.getMessage());
            }
        });
        return rows;
    }

    /** A change record to write: key and value as on the change topic. */
    public record KeyedChange(Object key, Object value) {
    }
}
