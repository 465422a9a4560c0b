package dev.streametl;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipeline as a separate process, killed with SIGKILL while thousands of orders flow, then started again: every
 * order must end up in Elasticsearch exactly once with the right customer, and on the enriched orders topic.
 */
class CrashRecoveryTest {

    static final int ORDERS = 4000;
    static final int ORDERS_PER_TRANSACTION = 20;

    @TempDir
    Path tempDir;

    RealServices real;
    Process app;

    @Test
    void noOrderIsLostOrDuplicatedAcrossAKill() throws Exception {
        real = RealServices.start(tempDir);
        app = startApp("first");
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);

        AtomicInteger inserted = new AtomicInteger();
        Thread writer = new Thread(() -> insertOrders(inserted), "order-writer");
        writer.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> inserted.get() >= ORDERS / 3);
        await().atMost(Duration.ofMinutes(1)).until(() -> real.documents("enriched_orders").size() > 50);
        app.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no offset flush, no commit
        int indexedAtKill = real.documents("enriched_orders").size();

        writer.join();
        assertEquals(ORDERS, inserted.get());
        assertTrue(indexedAtKill < 50 + ORDERS, "the kill came while orders were flowing (" + indexedAtKill + " indexed)");
        app = startApp("second");

        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(50 + ORDERS, expected.size());
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> real.documents("enriched_orders").size() >= expected.size());
        assertEquals(expected, real.documents("enriched_orders"));
        await().atMost(Duration.ofSeconds(30)).until(() -> real.latest("enriched_orders").size() == expected.size());
        assertEquals(expected, real.latest("enriched_orders"));
        assertFalse(real.records("etl.dlq").iterator().hasNext(), "nothing was dead-lettered");
    }

    /** Inserts the orders, a few per transaction, for customers 1 to 12. */
    private void insertOrders(AtomicInteger inserted) {
        try (Connection db = DriverManager.getConnection(real.jdbcUrl, "postgres", "postgres");
             PreparedStatement insert = db.prepareStatement("INSERT INTO orders VALUES (?, ?, ?, ?)")) {
            db.setAutoCommit(false);
            for (int i = 0; i < ORDERS; i++) {
                insert.setInt(1, 10_000 + i);
                insert.setInt(2, 1 + i % 12);
                insert.setBigDecimal(3, new java.math.BigDecimal(i % 500 + ".25"));
                insert.setString(4, "TEE-0" + (1 + i % 6));
                insert.addBatch();
                if ((i + 1) % ORDERS_PER_TRANSACTION == 0) {
                    insert.executeBatch();
                    db.commit();
                    inserted.addAndGet(ORDERS_PER_TRANSACTION);
                    Thread.sleep(5);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The pipeline's main class in a JVM of its own, on the test's servers, logging to a file. */
    private Process startApp(String name) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path")));
        real.pipelineProperties().forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add(App.class.getName());
        File log = tempDir.resolve("app-" + name + ".log").toFile();
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (app != null) {
            app.destroy();
            if (!app.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                app.destroyForcibly();
            }
        }
        if (real != null) {
            real.close();
        }
    }
}
