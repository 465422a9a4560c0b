package dev.streametl.pipeline;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import io.debezium.embedded.KafkaConnectUtil;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.apache.kafka.connect.storage.FileOffsetBackingStore;
import org.apache.kafka.connect.storage.OffsetBackingStore;
import org.apache.kafka.connect.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's offset store, which saves offsets only once Kafka has acknowledged every captured change handed over so
 * far ({@link CapturePublications}). Every save goes through here: the periodic flush ({@code offset-flush-interval-ms})
 * and the last one when the capture stops. If the acknowledgements do not come in time, this save fails and the offsets
 * stay for the next one: capture replays more after a crash, and skips nothing.
 * <p>
 * The offsets live in a file ({@code offset-storage-file-name}, the default) or, with {@code etl.capture.offsets=kafka},
 * in a compacted Kafka topic ({@code offset-storage-topic}, set by {@link Connections}), so that the capturing instance
 * needs no disk of its own: this class wraps Debezium's file or Kafka store, whichever the configuration names.
 * <p>
 * Set with {@code camel.component.debezium-postgres.offset-storage}; Debezium makes it with its no-argument constructor.
 */
public final class AcknowledgedOffsetStore implements OffsetBackingStore {

    private static final Logger LOG = LoggerFactory.getLogger(AcknowledgedOffsetStore.class);
    private static final Duration ACKNOWLEDGEMENT_WAIT = Duration.ofSeconds(30);

    private OffsetBackingStore store;
    /** The key of the capture's publications: the offsets file named on the component, in either mode. */
    private String offsetsFile;
    private volatile boolean warned;

    @Override
    public void configure(WorkerConfig config) {
        offsetsFile = (String) config.originals().get(StandaloneConfig.OFFSET_STORAGE_FILE_FILENAME_CONFIG);
        Object topic = config.originals().get(OFFSETS_TOPIC);
        if (topic != null && !topic.toString().isBlank()) {
            store = KafkaConnectUtil.kafkaOffsetBackingStore(config.originalsStrings());
            LOG.info("Debezium's offsets are kept in the Kafka topic {}", topic);
        } else {
            store = new FileOffsetBackingStore(KafkaConnectUtil.converterForOffsetStore());
        }
        store.configure(config);
    }

    /** The engine setting that names the offsets topic (Kafka Connect's). */
    static final String OFFSETS_TOPIC = "offset.storage.topic";

    @Override
    public void start() {
        store.start();
    }

    @Override
    public void stop() {
        store.stop();
    }

    @Override
    public Future<Map<ByteBuffer, ByteBuffer>> get(Collection<ByteBuffer> keys) {
        return store.get(keys);
    }

    @Override
    public Set<Map<String, Object>> connectorPartitions(String connectorName) {
        return store.connectorPartitions(connectorName);
    }

    @Override
    public Future<Void> set(Map<ByteBuffer, ByteBuffer> values, Callback<Void> callback) {
        CapturePublications publications = CapturePublications.of(offsetsFile);
        if (publications == null && !warned) {
            // the capture route opens its count for the component's offsets file: set elsewhere (on the endpoint URI),
            // this store cannot know what is still unsent, and saves like Debezium's own store
            warned = true;
            LOG.warn("No capture hands changes over for {}: Debezium offsets are saved without waiting for Kafka's"
                     + " acknowledgements (set the offsets file on the component, camel.component.debezium-postgres."
                     + "offset-storage-file-name, not on the endpoint)", offsetsFile);
        }
        if (publications != null) {
            try {
                publications.awaitAcknowledged(ACKNOWLEDGEMENT_WAIT);
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (callback != null) {
                    callback.onCompletion(e, null);
                }
                return CompletableFuture.failedFuture(e);
            }
        }
        Future<Void> saved = store.set(values, callback);
        if (publications != null) {
            publications.saved();
        }
        return saved;
    }
}
