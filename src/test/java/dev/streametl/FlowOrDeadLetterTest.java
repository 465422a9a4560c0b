package dev.streametl;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.KafkaRefusal;
import org.apache.camel.main.Main;
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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every record flows or is dead-lettered, on the real servers: bad records on the real topics of every consumer, a
 * row too large for Kafka captured from PostgreSQL, a stale write arriving after a delete, later than Elasticsearch's
 * default memory of deletes (before any restart of Elasticsearch: a restart forgets them all), and an Elasticsearch
 * outage longer than Kafka's poll interval while orders change.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FlowOrDeadLetterTest {

    static final String ORDERS = "postgres.public.orders";
    static final String CUSTOMERS = "postgres.public.customers";
    static final String GROUP = "etl-order-enrichment";
    /** Elasticsearch forgets a delete's version after index.gc_deletes, 60 s unless the index says otherwise. */
    static final Duration ELASTICSEARCH_DEFAULT_GC_DELETES = Duration.ofSeconds(60);

    @TempDir
    static java.nio.file.Path tempDir;

    RealServices real;
    Main pipeline;
    String health;
    final HttpClient http = HttpClient.newHttpClient();
    /** When order 50 was deleted, and the version (source position) of its delete. */
    long deletedAtNanos;
    long deleteVersion;

    @BeforeAll
    void start() throws Exception {
        real = RealServices.start(tempDir);
        int port = RealServices.freePort();
        health = "http://localhost:" + port + "/observe/health";
        pipeline = real.startPipeline(Map.of("camel.management.port", String.valueOf(port),
                "etl.enrich.customer-wait-ms", "2000",
                "etl.health.stall-after-ms", "8000",
                "etl.orders.max-poll-interval-ms", "10000"));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
        // the stale write of the last test comes more than a minute after this delete
        real.sql("DELETE FROM orders WHERE order_id = 50");
        deletedAtNanos = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).until(() -> !real.documents("enriched_orders").containsKey("50"));
        deleteVersion = real.records(ORDERS).stream()
                .filter(r -> r.key().equals("{\"order_id\":50}") && r.value() != null && r.value().contains("\"op\":\"d\""))
                .mapToLong(r -> RealServices.tree(r.value()).path("source").path("lsn").asLong()).max().orElseThrow();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> real.groupIsSettled(GROUP, 3));
    }

    @AfterAll
    void stop() {
        if (real != null) {
            real.close();
        }
    }

    @Test
    @Order(1)
    void everyKindOfBadRecordOnTheRealTopicsIsDeadLetteredAndTheNextGoodOnesFlow() throws Exception {
        List<String> badChanges = List.of("null", "", "[1,2]", "\"a change\"", "42",
                change("x", "{\"order_id\":6001,\"customer_id\":1,\"price\":1.00,\"product_code\":\"TEE-01\"}", 1),
                change("c", "{\"order_id\":\"x\",\"customer_id\":1,\"price\":1.00,\"product_code\":\"TEE-01\"}", 1),
                change("c", "{\"order_id\":6002,\"customer_id\":1,\"price\":1.00,\"product_code\":\"TEE-01\"}", -1));
        List<String> badCustomers = List.of("null", "", "[1,2]", "42",
                change("c", "{\"id\":null,\"name\":\"N\",\"age\":1,\"membership\":\"standard\"}", 1),
                change("c", "{\"id\":62,\"name\":\"N\",\"age\":\"one\",\"membership\":\"standard\"}", 1),
                change("q", "{\"id\":63,\"name\":\"N\",\"age\":1,\"membership\":\"standard\"}", 1));
        List<String> badEnriched = List.of("null", "", "[1,2]", "{\"order_id\":6003,\"price\":null}",
                "{\"order_id\":6004,\"price\":400.00,\"product_code\":null,\"customer_id\":1}");
        real.produce(ORDERS, 0, badChanges);
        real.produce(CUSTOMERS, 0, badCustomers);
        real.produce("enriched_orders", 0, badEnriched);
        // then good changes, through PostgreSQL: a new customer and its big order, which must be a prospect
        real.sql("INSERT INTO customers VALUES (61, 'Nina Late', 33, 'standard')",
                "INSERT INTO orders VALUES (6000, 61, 777.00, 'HAT-06')");

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").containsKey("6000"));
        assertEquals("Nina Late", real.documents("enriched_orders").get("6000").get("customer_name").asText());
        await().atMost(Duration.ofSeconds(30)).until(() -> real.latest("high_value_prospects").containsKey("6000"));
        // one dead letter per bad record: the orders topic's by the enrichment (the product sales skip what it rejects)
        int expected = badChanges.size() + badCustomers.size() + badEnriched.size();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.records("etl.dlq").size() >= expected);
        List<ConsumerRecord<String, String>> deadLetters = real.records("etl.dlq");
        assertEquals(expected, deadLetters.size());
        assertDeadLetters(deadLetters, ORDERS, "enrich-order", badChanges);
        assertDeadLetters(deadLetters, CUSTOMERS, "customer-table", badCustomers);
        assertDeadLetters(deadLetters.stream().filter(d -> "high-value-prospects".equals(RealServices.header(d, DeadLetter.ROUTE))).toList(),
                "enriched_orders", "high-value-prospects", badEnriched);
        awaitHealthUp(); // nothing is stuck on them
    }

    @Test
    @Order(2)
    void aRowTooLargeForKafkaIsDeadLetteredAndCaptureMovesOn() throws Exception {
        int before = real.records("etl.dlq").size();
        String tooLarge = "X".repeat(2 * 1024 * 1024); // Kafka's producer takes at most 1 MB a record by default
        real.sql("ALTER TABLE orders ALTER COLUMN product_code TYPE text", // room for a large value
                "INSERT INTO orders VALUES (6100, 1, 1.00, '" + tooLarge + "')");
        String after = lsn("SELECT pg_current_wal_lsn()");
        real.sql("INSERT INTO orders VALUES (6101, 1, 2.00, 'PEN-05')");

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").containsKey("6101"));
        List<ConsumerRecord<String, String>> deadLetters = real.records("etl.dlq");
        assertEquals(before + 1, deadLetters.size());
        ConsumerRecord<String, String> deadLetter = deadLetters.get(before);
        assertEquals("{\"order_id\":6100}", deadLetter.key());
        assertTrue(RealServices.header(deadLetter, DeadLetter.ERROR).startsWith("RecordTooLargeException: "), RealServices.header(deadLetter, DeadLetter.ERROR));
        assertEquals(ORDERS, RealServices.header(deadLetter, DeadLetter.SOURCE_TOPIC));
        assertEquals("publish-changes", RealServices.header(deadLetter, DeadLetter.ROUTE));
        assertEquals(KafkaRefusal.KEPT_CHARS, deadLetter.value().length());
        assertTrue(Integer.parseInt(RealServices.header(deadLetter, KafkaRefusal.ORIGINAL_SIZE)) > tooLarge.length());
        assertFalse(real.documents("enriched_orders").containsKey("6100"));
        // the capture's offsets, and so the replication slot, moved past the refused row
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> lsnAtLeast(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'streaming_etl'", after));
        awaitHealthUp();
        real.sql("DELETE FROM orders WHERE order_id = 6100"); // too large too (its row before), so also dead-lettered
        await().atMost(Duration.ofSeconds(30)).until(() -> real.records("etl.dlq").size() == before + 2);
    }

    @Test
    @Order(4)
    void anElasticsearchOutageLongerThanThePollIntervalWhileOrdersChangeEndsAsTheSqlJoin() throws Exception {
        awaitHealthUp();
        AtomicBoolean changing = new AtomicBoolean(true);
        AtomicInteger updates = new AtomicInteger();
        Thread load = new Thread(() -> updateOrdersUntil(changing, updates), "order-updates");
        real.stopElasticsearch();
        load.start();
        try {
            // longer than max.poll.interval.ms (10 s here): the stuck consumers lose their partitions
            HttpResponse<String> down = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> get(health), response -> response.body().contains("has been on one"));
            assertEquals(503, down.statusCode());
            assertTrue(down.body().contains("stage "), down.body());
            // the stuck consumers miss max.poll.interval.ms (10 s here) and are put out of their group
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> !real.groupIsSettled(GROUP, 3));
        } finally {
            real.startElasticsearchAgain();
        }
        await().atMost(Duration.ofSeconds(5)).pollDelay(Duration.ofSeconds(3)).until(() -> true);
        changing.set(false);
        load.join(30_000);
        assertTrue(updates.get() >= 20, "orders changed during the outage: " + updates.get());

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> RealServices.assertSameOrders(real.sqlJoin(), real.documents("enriched_orders")));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> RealServices.assertSameOrders(real.sqlJoin(), latestEnrichedOrders()));
        awaitHealthUp();
    }

    @Test
    @Order(3)
    void aStaleWriteAfterADeleteLaterThanElasticsearchsDefaultMemoryOfDeletesLeavesTheOrderDeleted() throws Exception {
        long waited = System.nanoTime() - deletedAtNanos;
        Duration left = ELASTICSEARCH_DEFAULT_GC_DELETES.plusSeconds(5).minusNanos(waited);
        if (!left.isNegative()) {
            await().atMost(left.plusSeconds(5)).pollDelay(left).until(() -> true); // the clock, not a result
        }
        EnrichedOrder stale = new EnrichedOrder(50, new BigDecimal("1.00"), "TEE-01",
                new dev.streametl.pipeline.Customer(1, "Stale", 1, "standard"), deleteVersion - 1);
        pipeline.getCamelContext().createProducerTemplate().sendBody("direct:index-enriched-orders", List.of(stale));

        assertNull(real.documents("enriched_orders").get("50"), "a write older than the delete must not bring the order back");
    }

    /** The last record of each order on the enriched orders topic (the bad records of the first test left out). */
    private Map<String, JsonNode> latestEnrichedOrders() {
        return RealServices.latest(real.records("enriched_orders").stream()
                .filter(record -> record.key() != null && !record.key().startsWith("bad-")).toList());
    }

    /** Updates random orders of the sample (1 to 49) as fast as a client does, until told to stop. */
    private void updateOrdersUntil(AtomicBoolean changing, AtomicInteger updates) {
        try (Connection db = DriverManager.getConnection(real.jdbcUrl, "postgres", "postgres");
             PreparedStatement update = db.prepareStatement("UPDATE orders SET price = ? WHERE order_id = ?")) {
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (changing.get() && System.nanoTime() < deadline) {
                update.setBigDecimal(1, new BigDecimal(ThreadLocalRandom.current().nextInt(1, 100_000)).movePointLeft(2));
                update.setInt(2, ThreadLocalRandom.current().nextInt(1, 50));
                update.executeUpdate();
                updates.incrementAndGet();
                Thread.sleep(20); // the pace of the load, not a wait for a result
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void assertDeadLetters(List<ConsumerRecord<String, String>> deadLetters, String topic, String route,
            List<String> values) {
        List<ConsumerRecord<String, String>> mine = deadLetters.stream()
                .filter(d -> topic.equals(RealServices.header(d, DeadLetter.SOURCE_TOPIC))).toList();
        assertEquals(values, mine.stream().map(d -> d.value() == null ? "" : d.value()).toList(), "dead letters of " + topic);
        List<Long> offsets = real.records(topic).stream().filter(r -> r.partition() == 0 && values.contains(r.value()))
                .map(ConsumerRecord::offset).collect(Collectors.toList());
        for (int i = 0; i < mine.size(); i++) {
            ConsumerRecord<String, String> deadLetter = mine.get(i);
            assertTrue(RealServices.header(deadLetter, DeadLetter.ERROR).startsWith("InvalidRecordException: "),
                    RealServices.header(deadLetter, DeadLetter.ERROR));
            assertEquals("0", RealServices.header(deadLetter, DeadLetter.SOURCE_PARTITION));
            assertEquals(String.valueOf(offsets.get(i)), RealServices.header(deadLetter, DeadLetter.SOURCE_OFFSET));
            assertEquals(route, RealServices.header(deadLetter, DeadLetter.ROUTE));
        }
    }

    private void awaitHealthUp() {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> get(health).statusCode() == 200);
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String lsn(String query) throws Exception {
        try (Connection db = DriverManager.getConnection(real.jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement(); ResultSet result = sql.executeQuery(query)) {
            result.next();
            return result.getString(1);
        }
    }

    private boolean lsnAtLeast(String query, String lsn) throws Exception {
        String current = lsn(query);
        return current != null && "t".equals(lsn("SELECT (pg_wal_lsn_diff('" + current + "', '" + lsn + "') >= 0)::text"))
               || "true".equals(lsn("SELECT (pg_wal_lsn_diff('" + current + "', '" + lsn + "') >= 0)::text"));
    }

    private static String change(String op, String after, long lsn) {
        return "{\"before\":null,\"after\":" + after + ",\"source\":{\"ts_ms\":1"
               + (lsn < 0 ? "" : ",\"lsn\":" + lsn) + "},\"op\":\"" + op + "\",\"ts_ms\":1}";
    }
}
