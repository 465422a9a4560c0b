package dev.streametl;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.main.Main;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The customer table on the real PostgreSQL, Kafka and Elasticsearch: in {@code current} mode it keeps up with
 * thousands of new and updated customers without sending orders to the unmatched topic; an order whose customer comes
 * after the wait is joined once it comes; and the table never goes back in time when its consumer rejoins (the
 * pipeline process paused past the consumer's session timeout while orders flow).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CustomerTableTest {

    static final String CUSTOMERS_TOPIC = "postgres.public.customers";
    static final String UNMATCHED_TOPIC = "enriched_orders.unmatched";

    @TempDir
    static Path tempDir;

    RealServices real;
    Main pipeline;
    Process app;

    @BeforeAll
    void start() throws Exception {
        real = RealServices.start(tempDir);
        pipeline = real.startPipeline(Map.of("etl.enrich.customer-updates", "current", "etl.enrich.customer-wait-ms", "3000"));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
    }

    @AfterAll
    void stop() throws Exception {
        if (Files.exists(tempDir.resolve("app-rejoin.log"))) {
            Files.copy(tempDir.resolve("app-rejoin.log"), Path.of("target", "CustomerTableTest-app-rejoin.log"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        if (app != null) {
            ProcessHandle.of(app.pid()).ifPresent(p -> signal(p.pid(), "CONT"));
            RealServices.stop(app);
        }
        if (real != null) {
            real.close();
        }
    }

    @Test
    @Order(1)
    void inCurrentModeThousandsOfNewAndUpdatedCustomersLeaveNoOrderUnmatched() throws Exception {
        long start = System.nanoTime();
        real.sql("INSERT INTO customers SELECT 100000 + g, 'Customer ' || g, 20 + g % 50,"
                 + " CASE WHEN g % 3 = 0 THEN 'premium' ELSE 'standard' END FROM generate_series(1, 3000) g");
        real.sql("INSERT INTO orders SELECT 200000 + g, 100000 + g, 10 + g % 90, 'TEE-01' FROM generate_series(1, 3000) g");

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50 + 3000);
        System.out.printf("3,000 new customers then an order each: all enriched in %d ms%n", millisSince(start));
        assertEquals(Set.of(), unmatchedKeys(), "no order went to the unmatched topic");
        awaitIndexEqualsSqlJoin(Duration.ofSeconds(30));

        long update = System.nanoTime();
        real.sql("BEGIN; UPDATE customers SET name = name || ' Updated', age = age + 1 WHERE id BETWEEN 100001 AND 103000;"
                 + " INSERT INTO customers VALUES (103001, 'Right Beside', 33, 'premium');"
                 + " INSERT INTO orders VALUES (203001, 103001, 12.50, 'MUG-02'); COMMIT;");

        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.documents("enriched_orders").containsKey("203001"));
        System.out.printf("3,000 customers updated with a new customer and order beside them: the order enriched in %d ms%n",
                millisSince(update));
        assertEquals("Right Beside", real.documents("enriched_orders").get("203001").get("customer_name").asText());
        awaitIndexEqualsSqlJoin(Duration.ofMinutes(2));
        System.out.printf("... and the 3,000 customers' orders rewritten (index = SQL join) in %d ms%n", millisSince(update));
        assertEquals(Set.of(), unmatchedKeys(), "no order went to the unmatched topic");
        await().atMost(Duration.ofSeconds(30)).until(() -> real.latest("enriched_orders").equals(real.sqlJoin()));
    }

    @Test
    @Order(2)
    void anOrderWhoseCustomerComesAfterTheWaitIsJoinedOnceItComes() throws Exception {
        real.sql("INSERT INTO orders VALUES (300001, 110000, 21.00, 'CAP-03')");

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> unmatchedKeys().contains("300001"));
        assertFalse(real.documents("enriched_orders").containsKey("300001"));

        real.sql("INSERT INTO customers VALUES (110000, 'Very Late', 44, 'standard')");

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.documents("enriched_orders").containsKey("300001"));
        assertEquals("Very Late", real.documents("enriched_orders").get("300001").get("customer_name").asText());
        awaitIndexEqualsSqlJoin(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).until(() -> real.latest("enriched_orders").containsKey("300001"));
    }

    @Test
    @Order(3)
    void theTableDoesNotGoBackInTimeWhenItsConsumerRejoins() throws Exception {
        pipeline.stop();
        // many old versions of the customers the orders below name: a replay of them would take a while to go through
        real.sql("DO $$ BEGIN FOR i IN 1..3000 LOOP UPDATE customers SET name = 'Old ' || i WHERE id BETWEEN 1 AND 12;"
                 + " END LOOP; END $$",
                "UPDATE customers SET name = 'Stable ' || id WHERE id BETWEEN 1 AND 12");
        Properties defaults = applicationProperties();
        // as-of-order mode: each order keeps the customer as of its commit. The customer table's consumer times out
        // quickly, the order enrichment's does not: only the customer table rejoins after the pause
        app = real.startApp("rejoin", Map.of(
                "etl.customers.source", defaults.getProperty("etl.customers.source")
                                        + "&sessionTimeoutMs=6000&heartbeatIntervalMs=1000",
                "etl.orders.source", defaults.getProperty("etl.orders.source")
                        .replace("sessionTimeoutMs=10000", "sessionTimeoutMs=60000")));

        // the old versions are captured after the start: the orders below must come once the table has them all (two
        // topics read apart give no order between a customer change and a later order: not what this test is about)
        AtomicInteger probe = new AtomicInteger(399_000);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            String id = String.valueOf(probe.incrementAndGet());
            real.sql("INSERT INTO orders VALUES (" + id + ", 12, 1.00, 'PEN-05')");
            await().atMost(Duration.ofMinutes(1)).until(() -> real.documents("enriched_orders").containsKey(id));
            return real.documents("enriched_orders").get(id).get("customer_name").asText().equals("Stable 12");
        });

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger inserted = new AtomicInteger();
        Thread writer = new Thread(() -> insertOrdersUntilStopped(400_000, writing, inserted), "order-writer");
        writer.start();
        try {
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).until(() -> newOrdersIndexed() >= 200);
            String group = await().atMost(Duration.ofSeconds(30)).until(this::customerTableGroup, Optional::isPresent).get();

            signal(app.pid(), "STOP");
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                        .until(() -> real.consumerGroup(group).map(d -> d.members().isEmpty()).orElse(true));
            } finally {
                signal(app.pid(), "CONT");
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> real.consumerGroup(group).map(d -> d.members().size() == 1).orElse(false));
            int afterRejoin = newOrdersIndexed();
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                    .until(() -> newOrdersIndexed() >= afterRejoin + 600); // orders flow while the topic is read again
        } finally {
            writing.set(false);
            writer.join();
        }

        Map<String, JsonNode> expected = new TreeMap<>(real.sqlJoin());
        expected.keySet().removeIf(id -> Integer.parseInt(id) < 400_000);
        assertEquals(inserted.get(), expected.size());
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> newOrdersIndexed() >= expected.size());
        Map<String, JsonNode> indexed = new TreeMap<>(real.documents("enriched_orders"));
        indexed.keySet().removeIf(id -> Integer.parseInt(id) < 400_000);
        TreeSet<String> wrong = indexed.keySet().stream().filter(id -> !indexed.get(id).equals(expected.get(id)))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(expected, indexed, wrong.size() + " orders not joined with their customer as of their commit"
                + (wrong.isEmpty() ? "" : ", from " + wrong.first() + " to " + wrong.last())
                + " (the writer stopped at " + (400_000 + inserted.get()) + ")");
        String log = Files.readString(tempDir.resolve("app-rejoin.log"));
        assertTrue(log.contains("is read again from offset"), "the customer table's consumer rejoined and read the topic again");
    }

    /** Inserts orders of customers 1 to 12, ten per transaction, at a steady pace until told to stop (6,000 at most). */
    private void insertOrdersUntilStopped(int firstId, AtomicBoolean writing, AtomicInteger inserted) {
        try (Connection db = DriverManager.getConnection(real.jdbcUrl, "postgres", "postgres");
             PreparedStatement insert = db.prepareStatement("INSERT INTO orders VALUES (?, ?, 10.00, 'TEE-01')")) {
            db.setAutoCommit(false);
            while (writing.get() && inserted.get() < 6000) {
                for (int i = 0; i < 10; i++) {
                    int id = firstId + inserted.get() + i;
                    insert.setInt(1, id);
                    insert.setInt(2, 1 + id % 12);
                    insert.addBatch();
                }
                insert.executeBatch();
                db.commit();
                inserted.addAndGet(10);
                Thread.sleep(40); // pacing the load, not waiting for anything
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private int newOrdersIndexed() throws Exception {
        return (int) real.documents("enriched_orders").keySet().stream().filter(id -> Integer.parseInt(id) >= 400_000).count();
    }

    /** The consumer group the customer table reads in (a random one): the one whose member has the customers topic. */
    private Optional<String> customerTableGroup() throws Exception {
        try (Admin admin = real.admin()) {
            Set<String> groups = admin.listGroups().all().get(30, TimeUnit.SECONDS).stream().map(GroupListing::groupId)
                    .collect(Collectors.toSet());
            Map<String, ConsumerGroupDescription> described = admin.describeConsumerGroups(groups).all()
                    .get(30, TimeUnit.SECONDS);
            return described.values().stream().filter(d -> d.members().stream().anyMatch(m -> m.assignment()
                    .topicPartitions().stream().anyMatch(p -> p.topic().equals(CUSTOMERS_TOPIC))))
                    .map(ConsumerGroupDescription::groupId).findFirst();
        }
    }

    private Set<String> unmatchedKeys() {
        return real.records(UNMATCHED_TOPIC).stream().map(ConsumerRecord::key).collect(Collectors.toSet());
    }

    private void awaitIndexEqualsSqlJoin(Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").equals(real.sqlJoin()));
    }

    private static Properties applicationProperties() throws Exception {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of("application.properties"))) {
            properties.load(reader);
        }
        return properties;
    }

    private static void signal(long pid, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start().waitFor();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
