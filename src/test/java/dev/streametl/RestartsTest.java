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
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.pipeline.Order;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The servers restart under the pipeline's feet, each while orders are inserted and updated: PostgreSQL stopped for
 * 20 s, Debezium's replication connection ended by the server, the Kafka broker stopped for 20 s. The pipeline, one
 * process for the three, resumes by itself each time: afterwards Elasticsearch and the enriched orders topic's latest
 * record per key equal the SQL join, nothing lost, nothing stale. While a server is away, health is DOWN naming it,
 * and UP once it is back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestartsTest {

    private static final Logger LOG = LoggerFactory.getLogger(RestartsTest.class);
    private static final String SLOT = "streaming_etl";
    private static final Duration OUTAGE = Duration.ofSeconds(20);

    /** Kept when a test fails: the servers' and the pipeline's logs (app-restarts.log) say what happened. */
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    static Path tempDir;

    RealServices real;
    Process app;
    String health;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void startServicesAndPipeline() throws Exception {
        real = RealServices.start(tempDir);
        int port = RealServices.freePort();
        health = "http://localhost:" + port + "/observe/health";
        // a process: the Kafka broker runs in this JVM, and the pipeline must live on while it restarts
        app = real.startApp("restarts", Map.of("camel.management.port", String.valueOf(port)));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> status() == 200);
    }

    @AfterAll
    void stop() throws InterruptedException {
        RealServices.stop(app);
        if (real != null) {
            real.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void postgresRestartUnderLoadLosesNothing() throws Exception {
        try (OrderChanges load = OrderChanges.start(real.jdbcUrl, 100_000)) {
            load.awaitMore(200);
            long stopped = System.nanoTime();
            real.stopPostgres();
            String down = staysDownNaming("postgresql", OUTAGE);
            real.startPostgresAgain();
            LOG.info("PostgreSQL away {} ms; health meanwhile: {}", (System.nanoTime() - stopped) / 1_000_000, down);
            long back = System.nanoTime();
            awaitUp();
            LOG.info("Health UP {} ms after PostgreSQL was back", (System.nanoTime() - back) / 1_000_000);
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200)).until(() -> real.replicationPid(SLOT) != -1);
            LOG.info("Debezium streams again {} ms after PostgreSQL was back", (System.nanoTime() - back) / 1_000_000);
            load.awaitMore(200); // changes made after the restart flow too
            assertTrue(load.retried() > 0, "the load met the outage: its transactions were retried");
        }
        assertIndexAndTopicEqualTheJoin();
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void droppedReplicationConnectionUnderLoadLosesNothing() throws Exception {
        try (OrderChanges load = OrderChanges.start(real.jdbcUrl, 200_000)) {
            load.awaitMore(200);
            int streaming = real.replicationPid(SLOT);
            assertNotEquals(-1, streaming, "Debezium streams from the slot");
            assertEquals(streaming, real.terminateReplicationConnection(SLOT));
            long dropped = System.nanoTime();
            int again = await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
                    .until(() -> real.replicationPid(SLOT), pid -> pid != -1 && pid != streaming);
            LOG.info("Debezium streams again (walsender {} -> {}) {} ms after its connection was ended", streaming, again,
                    (System.nanoTime() - dropped) / 1_000_000);
            load.awaitMore(200);
            awaitUp();
        }
        assertIndexAndTopicEqualTheJoin();
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void kafkaRestartUnderLoadLosesNothing() throws Exception {
        try (OrderChanges load = OrderChanges.start(real.jdbcUrl, 300_000)) {
            load.awaitMore(200);
            long stopped = System.nanoTime();
            real.stopKafka();
            int before = load.committed();
            String down = staysDownNaming("kafka", OUTAGE);
            assertTrue(load.committed() > before, "orders changed while Kafka was away");
            real.startKafkaAgain();
            LOG.info("Kafka away {} ms; health meanwhile: {}", (System.nanoTime() - stopped) / 1_000_000, down);
            long back = System.nanoTime();
            awaitUp();
            LOG.info("Health UP {} ms after Kafka was back", (System.nanoTime() - back) / 1_000_000);
            load.awaitMore(200);
        }
        assertIndexAndTopicEqualTheJoin();
    }

    /** Elasticsearch, then the enriched orders topic's latest record per key, equal the SQL join of the final tables. */
    private void assertIndexAndTopicEqualTheJoin() throws Exception {
        Map<String, JsonNode> expected = real.sqlJoin();
        long start = System.nanoTime();
        RealServices.awaitSettled(expected, () -> real.documents("enriched_orders"), Duration.ofMinutes(2),
                Duration.ofSeconds(1));
        RealServices.assertSameOrders(expected, real.documents("enriched_orders"));
        RealServices.awaitSettled(expected, () -> real.latest("enriched_orders", Duration.ofSeconds(30)),
                Duration.ofSeconds(30), Duration.ofSeconds(1));
        LOG.info("{} orders: Elasticsearch and enriched_orders equal the SQL join, settled in {} ms", expected.size(),
                (System.nanoTime() - start) / 1_000_000);
        assertEquals(List.of(), real.records("etl.dlq", Duration.ofSeconds(30)), "nothing was dead-lettered");
        assertEquals(200, status(), "health is UP");
    }

    /**
     * Awaits health DOWN naming the check, then polls it for {@code outage} (counted from now) and asserts it stays
     * so all along. Returns the check as health shows it.
     */
    private String staysDownNaming(String check, Duration outage) {
        long end = System.nanoTime() + outage.toNanos();
        String down = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                .until(() -> downCheck(check), body -> body != null);
        Duration left = Duration.ofNanos(Math.max(end - System.nanoTime(), 1_000_000_000L));
        await().atMost(left.plusSeconds(10)).pollInterval(Duration.ofSeconds(1)).during(left)
                .until(() -> downCheck(check) != null);
        return down;
    }

    /** The named check, as {@code /observe/health} shows it while it is DOWN (503); null while it is not DOWN. */
    private String downCheck(String check) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(health)).timeout(Duration.ofSeconds(20))
                .build(), HttpResponse.BodyHandlers.ofString());
        Matcher named = Pattern.compile("\\{[^{}]*\"name\":\"" + check + "\"[^{}]*}").matcher(response.body());
        return response.statusCode() == 503 && named.find() && named.group().contains("\"status\":\"DOWN\"")
               ? named.group() : null;
    }

    private void awaitUp() {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> status() == 200);
    }

    private int status() {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(health)).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * Orders inserted and updated, a few per transaction, until closed. A transaction that fails (PostgreSQL away) is
     * retried on a new connection until it commits. Every statement sets whole rows (an insert that finds its row
     * already there overwrites it), so a transaction retried after a commit whose answer was lost changes nothing more.
     */
    static final class OrderChanges implements AutoCloseable {

        private final String jdbcUrl;
        private final int firstId;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger committed = new AtomicInteger();
        private final AtomicInteger retried = new AtomicInteger();
        private final Thread thread;
        private volatile Exception failure;
        /** The load thread's connection; null after a failure, until the next try. */
        private Connection connection;

        private OrderChanges(String jdbcUrl, int firstId) {
            this.jdbcUrl = jdbcUrl;
            this.firstId = firstId;
            this.thread = new Thread(this::run, "order-changes-" + firstId);
        }

        static OrderChanges start(String jdbcUrl, int firstId) {
            OrderChanges load = new OrderChanges(jdbcUrl, firstId);
            load.thread.start();
            return load;
        }

        int committed() {
            return committed.get();
        }

        int retried() {
            return retried.get();
        }

        /** Awaits this many more committed transactions than now. */
        void awaitMore(int transactions) {
            int target = committed.get() + transactions;
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100))
                    .until(() -> failure != null || committed.get() >= target);
            if (failure != null) {
                throw new IllegalStateException("the load failed", failure);
            }
        }

        private void run() {
            Random random = new Random(firstId);
            int inserted = 0;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (running.get() && System.nanoTime() < deadline && failure == null) {
                // the transaction: three new orders, and two updates of orders this load inserted before
                List<Order> rows = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    boolean update = i >= 3;
                    if (update && inserted == 0) {
                        break;
                    }
                    int id = firstId + (update ? random.nextInt(inserted) : inserted + i);
                    rows.add(new Order(id, 1 + random.nextInt(12), new BigDecimal(random.nextInt(1, 100_000)).movePointLeft(2),
                            (update ? "HAT-0" : "TEE-0") + (1 + random.nextInt(6))));
                }
                commitRetrying(rows);
                inserted += 3;
                try {
                    Thread.sleep(20); // the pace of the load (about 250 changes a second), not a wait for a result
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void commitRetrying(List<Order> rows) {
            long giveUp = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (true) {
                try {
                    if (connection == null) {
                        Properties login = new Properties();
                        login.setProperty("user", "postgres");
                        login.setProperty("password", "postgres");
                        login.setProperty("connectTimeout", "5");
                        login.setProperty("socketTimeout", "30");
                        connection = DriverManager.getConnection(jdbcUrl, login);
                        connection.setAutoCommit(false);
                    }
                    try (PreparedStatement upsert = connection.prepareStatement("INSERT INTO orders VALUES (?, ?, ?, ?)"
                            + " ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,"
                            + " price = EXCLUDED.price, product_code = EXCLUDED.product_code")) {
                        for (Order order : rows) {
                            upsert.setInt(1, order.orderId());
                            upsert.setInt(2, order.customerId());
                            upsert.setBigDecimal(3, order.price());
                            upsert.setString(4, order.productCode());
                            upsert.executeUpdate();
                        }
                    }
                    connection.commit();
                    committed.incrementAndGet();
                    return;
                } catch (SQLException e) {
                    retried.incrementAndGet();
                    closeConnection();
                    if (System.nanoTime() > giveUp) {
                        failure = e;
                        return;
                    }
                    try {
                        Thread.sleep(200); // PostgreSQL is away: try again shortly
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                } catch (RuntimeException e) {
                    failure = e;
                    throw e;
                }
            }
        }

        private void closeConnection() {
            if (connection != null) {
                try {
                    connection.close();
                } catch (SQLException ignored) {
                    // the server is gone already
                }
                connection = null;
            }
        }

        /** Stops the load after its transaction in flight has committed. */
        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(TimeUnit.MINUTES.toMillis(2));
            closeConnection();
            if (failure != null) {
                throw new IllegalStateException("the load failed", failure);
            }
        }
    }
}
