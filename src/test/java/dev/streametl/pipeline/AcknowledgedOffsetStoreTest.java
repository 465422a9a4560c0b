package dev.streametl.pipeline;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Debezium's offsets are saved only once Kafka has acknowledged every change the capture handed over before them. */
class AcknowledgedOffsetStoreTest {

    @TempDir
    Path dir;

    @Test
    void savesOffsetsOnlyOnceEveryChangeHandedOverIsAcknowledged() throws Exception {
        Path file = dir.resolve("offsets.dat");
        CapturePublications publications = CapturePublications.open(file.toString());
        AcknowledgedOffsetStore store = store(file);
        publications.handedOver(null);
        publications.handedOver(null);

        CompletableFuture<Future<Void>> save = CompletableFuture.supplyAsync(() -> store.set(Map.of(bytes("partition"),
                bytes("lsn=42")), null));

        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !save.isDone());
        assertFalse(Files.exists(file), "nothing saved while two changes are not acknowledged");
        publications.acknowledged(null);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !save.isDone());
        publications.acknowledged(null);
        save.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        store.stop();

        AcknowledgedOffsetStore reread = store(file);
        assertEquals(bytes("lsn=42"), reread.get(List.of(bytes("partition"))).get(5, TimeUnit.SECONDS).get(bytes("partition")));
        reread.stop();
    }

    private static AcknowledgedOffsetStore store(Path file) {
        AcknowledgedOffsetStore store = new AcknowledgedOffsetStore();
        store.configure(new StandaloneConfig(Map.of(
                "key.converter", "org.apache.kafka.connect.json.JsonConverter",
                "value.converter", "org.apache.kafka.connect.json.JsonConverter",
                StandaloneConfig.OFFSET_STORAGE_FILE_FILENAME_CONFIG, file.toString())));
        store.start();
        return store;
    }

    private static ByteBuffer bytes(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }
}
