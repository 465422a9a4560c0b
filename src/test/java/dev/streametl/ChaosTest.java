package dev.streametl;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chaos: the pipeline as a process, killed with SIGKILL at ten random moments while orders are inserted, updated and
 * deleted, and started again each time. Afterwards Elasticsearch equals the SQL join of the final tables, the enriched
 * orders topic's last record per key too, and the product sales equal SQL's count of orders per product.
 */
class ChaosTest {

    private static final Logger LOG = LoggerFactory.getLogger(ChaosTest.class);
    static final int KILLS = 10;

    @TempDir
    Path tempDir;

    RealServices real;
    Process app;
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void tenKillsUnderInsertsUpdatesAndDeletesLoseNothingAndWriteNothingStale() throws Exception {
        real = RealServices.start(tempDir);
        int port = RealServices.freePort();
        Map<String, String> settings = Map.of("camel.management.port", String.valueOf(port));
        app = real.startApp("chaos-0", settings);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);

        long seed = System.nanoTime();
        LOG.info("Chaos seed {}", seed);
        Random random = new Random(seed);
        AtomicBoolean changing = new AtomicBoolean(true);
        AtomicInteger changes = new AtomicInteger();
        Thread load = new Thread(() -> changeOrdersUntil(changing, changes, seed), "order-changes");
        load.start();
        try {
            for (int kill = 1; kill <= KILLS; kill++) {
                int before = changes.get();
                // a random moment: between 0.5 and 4 s of work since the pipeline was up
                await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ofMillis(500 + random.nextInt(3500)))
                        .until(() -> changes.get() > before);
                app.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no offset flush, no commit
                app = real.startApp("chaos-" + kill, settings);
                await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(300)).until(() -> healthy(port));
            }
        } finally {
            changing.set(false);
            load.join(TimeUnit.MINUTES.toMillis(1));
        }
        assertTrue(changes.get() > 100, "orders changed under the kills: " + changes.get());
        // capture resumed after every kill where it stopped: the first start's snapshot is the only one (another would
        // bring every row back as it is, but never the deletes since the position it lost)
        Set<String> snapshots = real.records("postgres.public.orders").stream()
                .filter(record -> record.value() != null).map(record -> RealServices.tree(record.value()))
                .filter(change -> "r".equals(change.path("op").asText()))
                .map(change -> change.path("source").path("lsn").asText()).collect(Collectors.toSet());
        assertEquals(1, snapshots.size(), "snapshots of the orders table, by position: " + snapshots);

        Map<String, JsonNode> expected = real.sqlJoin();
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> RealServices.assertSameOrders(expected, real.documents("enriched_orders")));
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> RealServices.assertSameOrders(expected, real.latest("enriched_orders")));
        Map<String, Long> sales = real.salesInSql();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> assertEquals(sales, RealServices.counts(real.documents("product_sales"))));
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> assertEquals(sales, RealServices.counts(real.latest("product_sales"))));
        LOG.info("{} order changes under {} kills: Elasticsearch, enriched_orders and product_sales match SQL",
                changes.get(), KILLS);
    }

    /** Inserts, updates and deletes orders (customers 1 to 12), a few per transaction, until told to stop. */
    private void changeOrdersUntil(AtomicBoolean changing, AtomicInteger changes, long seed) {
        Random random = new Random(seed + 1);
        int nextId = 20_000;
        try (Connection db = DriverManager.getConnection(real.jdbcUrl, "postgres", "postgres");
             PreparedStatement insert = db.prepareStatement("INSERT INTO orders VALUES (?, ?, ?, ?)");
             PreparedStatement update = db.prepareStatement(
                     "UPDATE orders SET price = ?, product_code = ? WHERE order_id = (SELECT order_id FROM orders"
                     + " ORDER BY random() LIMIT 1)");
             PreparedStatement delete = db.prepareStatement(
                     "DELETE FROM orders WHERE order_id = (SELECT order_id FROM orders ORDER BY random() LIMIT 1)")) {
            db.setAutoCommit(false);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (changing.get() && System.nanoTime() < deadline) {
                for (int i = 0; i < 5; i++) {
                    int kind = random.nextInt(10);
                    if (kind < 5) {
                        insert.setInt(1, nextId++);
                        insert.setInt(2, 1 + random.nextInt(12));
                        insert.setBigDecimal(3, new BigDecimal(random.nextInt(1, 100_000)).movePointLeft(2));
                        insert.setString(4, "TEE-0" + (1 + random.nextInt(6)));
                        insert.executeUpdate();
                    } else if (kind < 8) {
                        update.setBigDecimal(1, new BigDecimal(random.nextInt(1, 100_000)).movePointLeft(2));
                        update.setString(2, "HAT-0" + (1 + random.nextInt(6)));
                        update.executeUpdate();
                    } else {
                        delete.executeUpdate();
                    }
                }
                db.commit();
                changes.addAndGet(5);
                Thread.sleep(30); // the pace of the load (about 150 changes a second), not a wait for a result
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean healthy(int port) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/observe/health"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }


    @AfterEach
    void stop() throws InterruptedException {
        if (app != null) {
            app.destroy();
            if (!app.waitFor(60, TimeUnit.SECONDS)) {
                app.destroyForcibly();
            }
        }
        if (real != null) {
            real.close();
        }
    }
}
