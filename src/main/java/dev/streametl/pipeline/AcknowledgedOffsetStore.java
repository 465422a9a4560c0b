package dev.streametl.pipeline;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import io.debezium.embedded.KafkaConnectUtil;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.FileOffsetBackingStore;
import org.apache.kafka.connect.storage.OffsetBackingStore;
import org.apache.kafka.connect.storage.OffsetUtils;
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
 * needs no disk of its own: this class wraps Kafka Connect's Kafka store, or a file store that replaces the file in one
 * step ({@link ReplacingFileStore}), whichever the configuration names.
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
            store = new ReplacingFileStore(KafkaConnectUtil.converterForOffsetStore());
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

    /**
     * Kafka Connect's file store, saving by replacing the file instead of rewriting it. Kafka's own empties the file and
     * then writes it: a process killed in between leaves a file that Kafka reads back as no offsets at all (it takes
     * the cut-short file for a new one), and Debezium snapshots the tables again. A snapshot brings back every row as it
     * is, but a row deleted since the last offsets the capture published is simply not there: its delete would never
     * reach Kafka, and its document would stay in Elasticsearch. Here a save writes a temporary file, forces it to disk
     * and moves it over the old one in one step, so the file holds the last save or the one before it, whole.
     * <p>
     * A file that is there but holds no offsets (cut short by an earlier version, or damaged) stops the capture rather
     * than snapshot again silently: the operator decides (README, "Operate it").
     */
    static final class ReplacingFileStore extends FileOffsetBackingStore {

        private final Converter keyConverter;
        /** The partitions saved by this store, as Kafka's store keeps them for {@link #connectorPartitions}. */
        private final Map<String, Set<Map<String, Object>>> savedPartitions = new HashMap<>();
        private Path file;

        ReplacingFileStore(Converter keyConverter) {
            super(keyConverter);
            this.keyConverter = keyConverter;
        }

        @Override
        public void configure(WorkerConfig config) {
            super.configure(config);
            file = Path.of(config.getString(StandaloneConfig.OFFSET_STORAGE_FILE_FILENAME_CONFIG));
        }

        @Override
        public synchronized void start() {
            super.start();
            if (data.isEmpty() && Files.exists(file)) {
                throw new ConnectException("Debezium's offsets file " + file + " holds no offsets (cut short or"
                        + " damaged): the capture does not know where it stopped. Delete the file to snapshot the tables"
                        + " again; rows deleted since the capture stopped then stay in the sinks");
            }
        }

        @Override
        protected void save() {
            Map<byte[], byte[]> raw = new HashMap<>();
            for (Map.Entry<ByteBuffer, ByteBuffer> offset : data.entrySet()) {
                byte[] key = offset.getKey() == null ? null : offset.getKey().array();
                byte[] value = offset.getValue() == null ? null : offset.getValue().array();
                raw.put(key, value);
                OffsetUtils.processPartitionKey(key, value, keyConverter, savedPartitions);
            }
            Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
            try {
                try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
                     ObjectOutputStream out = new ObjectOutputStream(Channels.newOutputStream(channel))) {
                    out.writeObject(raw); // the format of Kafka's store: either store reads the other's file
                    out.flush();
                    channel.force(true);
                }
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new ConnectException("Could not save Debezium's offsets in " + file, e);
            }
        }

        @Override
        public Set<Map<String, Object>> connectorPartitions(String connectorName) {
            Set<Map<String, Object>> partitions = new HashSet<>(super.connectorPartitions(connectorName));
            partitions.addAll(savedPartitions.getOrDefault(connectorName, Set.of()));
            return partitions;
        }
    }
}
