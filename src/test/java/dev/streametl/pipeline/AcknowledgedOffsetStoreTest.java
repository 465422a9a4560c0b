package dev.streametl.pipeline;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

        CompletableFuture<Future<Void>> save = CompletableFuture.supplyAsync(() -> store.set(Map.of(partition(),
                bytes("lsn=42")), null));

        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !save.isDone());
        assertFalse(Files.exists(file), "nothing saved while two changes are not acknowledged");
        publications.acknowledged(null);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !save.isDone());
        publications.acknowledged(null);
        save.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        store.stop();

        AcknowledgedOffsetStore reread = store(file);
        assertEquals(bytes("lsn=42"), offsetIn(reread));
        reread.stop();
    }

    /**
     * A process killed (SIGKILL) while it saves offsets, over and over, at random moments: every time, the file still
     * holds the offsets of the last save the process finished, or a later one. A file cut short would be read as no
     * offsets at all, and Debezium would snapshot again, never deleting downstream the rows deleted in between.
     */
    @Test
    void offsetsSurviveAProcessKilledWhileSavingThem() throws Exception {
        Path file = dir.resolve("offsets.dat");
        Random random = new Random();
        for (int kill = 1; kill <= 10; kill++) {
            Process saver = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Saver.class.getName(), file.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long confirmed;
            try {
                AtomicLong lastSaved = new AtomicLong(-1);
                Thread reader = new Thread(() -> {
                    try (BufferedReader lines = new BufferedReader(new InputStreamReader(saver.getInputStream()))) {
                        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                            if (line.matches("[0-9]+")) { // not a log line
                                lastSaved.set(Long.parseLong(line));
                            }
                        }
                    } catch (Exception e) {
                        // the process was killed
                    }
                });
                reader.start();
                await("kill " + kill + ": a first save").atMost(Duration.ofSeconds(30))
                        .until(() -> lastSaved.get() >= 0 || !saver.isAlive());
                assertTrue(saver.isAlive(), "the saving process runs");
                Thread.sleep(random.nextInt(1, 200)); // a random moment of saving
                confirmed = lastSaved.get(); // read before the kill: a save the process finished
            } finally {
                saver.destroyForcibly().waitFor();
            }

            AcknowledgedOffsetStore reread = store(file);
            ByteBuffer offset = offsetIn(reread);
            reread.stop();
            assertNotNull(offset, "kill " + kill + ": the offsets are still in the file, " + Files.size(file) + " bytes");
            long saved = saveNumber(offset);
            assertTrue(saved >= confirmed, "kill " + kill + ": the file holds save " + saved + ", older than save "
                    + confirmed + " that had finished");
        }
    }

    /** Saves offsets through the store as fast as it can, starting after the last one in the file; prints each saved. */
    static final class Saver {
        public static void main(String[] args) throws Exception {
            Path file = Path.of(args[0]);
            CapturePublications.open(file.toString());
            AcknowledgedOffsetStore store = store(file);
            ByteBuffer last = offsetIn(store);
            for (long save = last == null ? 0 : saveNumber(last) + 1; ; save++) {
                store.set(Map.of(partition(), bytes("lsn=" + save)), null).get(5, TimeUnit.SECONDS);
                System.out.println(save);
                System.out.flush();
            }
        }
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

    /** The offset the store holds for {@link #partition()}; null if none. */
    private static ByteBuffer offsetIn(AcknowledgedOffsetStore store) throws Exception {
        return store.get(List.of(partition())).get(5, TimeUnit.SECONDS).get(partition());
    }

    /** The number of the save that wrote this offset ({@code lsn=N}). */
    private static long saveNumber(ByteBuffer offset) {
        return Long.parseLong(StandardCharsets.UTF_8.decode(offset).toString().substring("lsn=".length()));
    }

    /** A partition key as Debezium's engine writes it (Kafka Connect's JSON: the engine's name and the partition). */
    private static ByteBuffer partition() {
        return bytes("[\"etl\",{\"server\":\"postgres\"}]");
    }

    private static ByteBuffer bytes(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }
}
