package dev.streametl.pipeline;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import io.debezium.embedded.KafkaConnectUtil;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.apache.kafka.connect.storage.FileOffsetBackingStore;
import org.apache.kafka.connect.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's file offset store, which saves offsets only once Kafka has acknowledged every captured change handed
 * over so far ({@link CapturePublications}). Every save goes through here: the periodic flush
 * ({@code offset-flush-interval-ms}) and the last one when the capture stops. If the acknowledgements do not come in
 * time, this save fails and the offsets stay for the next one: capture replays more after a crash, and skips nothing.
 * <p>
 * Set with {@code camel.component.debezium-postgres.offset-storage}; Debezium makes it with its no-argument constructor.
 */
public final class AcknowledgedOffsetStore extends FileOffsetBackingStore {

    private static final Logger LOG = LoggerFactory.getLogger(AcknowledgedOffsetStore.class);
    private static final Duration ACKNOWLEDGEMENT_WAIT = Duration.ofSeconds(30);

    private String offsetsFile;
    private volatile boolean warned;

    public AcknowledgedOffsetStore() {
        super(KafkaConnectUtil.converterForOffsetStore());
    }

    @Override
    public void configure(WorkerConfig config) {
        super.configure(config);
        offsetsFile = config.getString(StandaloneConfig.OFFSET_STORAGE_FILE_FILENAME_CONFIG);
    }

    @Override
    public Future<Void> set(Map<ByteBuffer, ByteBuffer> values, Callback<Void> callback) {
        CapturePublications publications = CapturePublications.of(offsetsFile);
        if (publications == null && !warned) {
            // the capture route opens its count for the component's offsets file: set elsewhere (on the endpoint URI),
            // this store cannot know what is still unsent, and saves like Debezium's own file store
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
        Future<Void> saved = super.set(values, callback);
        if (publications != null) {
            publications.saved();
        }
        return saved;
    }
}
