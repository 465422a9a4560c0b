package dev.streametl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
        app = real.startApp("first", Map.of());
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);

        AtomicInteger inserted = new AtomicInteger();
        Thread writer = new Thread(() -> real.insertOrders(10_000, ORDERS, ORDERS_PER_TRANSACTION, inserted), "order-writer");
        writer.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> inserted.get() >= ORDERS / 3);
        await().atMost(Duration.ofMinutes(1)).until(() -> real.documents("enriched_orders").size() > 50);
        app.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no offset flush, no commit
        int indexedAtKill = real.documents("enriched_orders").size();

        writer.join();
        assertEquals(ORDERS, inserted.get());
        assertTrue(indexedAtKill < 50 + ORDERS, "the kill came while orders were flowing (" + indexedAtKill + " indexed)");
        app = real.startApp("second", Map.of());

        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(50 + ORDERS, expected.size());
        RealServices.awaitSettled(expected, () -> real.documents("enriched_orders"), Duration.ofMinutes(3),
                Duration.ofSeconds(1));
        RealServices.awaitSettled(expected, () -> real.latest("enriched_orders", Duration.ofSeconds(30)),
                Duration.ofSeconds(30));
        assertEquals(List.of(), real.records("etl.dlq", Duration.ofSeconds(30)), "nothing was dead-lettered");
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
