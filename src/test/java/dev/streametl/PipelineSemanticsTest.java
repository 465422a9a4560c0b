package dev.streametl;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.pipeline.DeadLetter;
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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the pipeline guarantees, each driven through SQL on the real PostgreSQL (or raw records on the real Kafka for
 * bad input) and checked on the real Elasticsearch and Kafka: upserts, deletes and key changes; an order before its
 * customer; customer updates in {@code current} mode; a restart; bad input; an Elasticsearch outage. The tests run in
 * order on one pipeline.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineSemanticsTest {

    static final Map<String, String> SETTINGS = Map.of(
            "etl.enrich.customer-updates", "current",
            "etl.enrich.customer-wait-ms", "3000");
    static final String ORDERS_TOPIC = "postgres.public.orders";
    static final String ENRICHMENT_GROUP = "etl-order-enrichment";

    @TempDir
    static java.nio.file.Path tempDir;

    RealServices real;
    Main pipeline;

    @BeforeAll
    void start() throws Exception {
        real = RealServices.start(tempDir);
        pipeline = real.startPipeline(SETTINGS);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
    }

    @AfterAll
    void stop() {
        if (real != null) {
            real.close(); // the pipeline first
        }
    }

    @Test
    @Order(1)
    void updatesDeletesAndKeyChangesEndAsTheSqlJoin() throws Exception {
        real.sql("UPDATE orders SET price = 999.99, product_code = 'HAT-06' WHERE order_id = 1",
                "DELETE FROM orders WHERE order_id = 2",
                "UPDATE orders SET order_id = 1003 WHERE order_id = 3"); // a key change: delete 3, create 1003

        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(49, expected.size());
        awaitIndexEqualsSqlJoin();
        assertEquals(expected, real.latest("enriched_orders"));
        assertEquals("999.99", real.documents("enriched_orders").get("1").get("price").asText());
        assertFalse(real.documents("enriched_orders").containsKey("3"));

        Set<String> tombstones = real.records("enriched_orders").stream().filter(r -> r.value() == null)
                .map(ConsumerRecord::key).collect(Collectors.toSet());
        assertEquals(Set.of("2", "3"), tombstones);

        Map<String, Long> salesInSql = expected.values().stream()
                .collect(Collectors.groupingBy(o -> o.get("product_code").asText(), TreeMap::new, Collectors.counting()));
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
                .until(() -> productSales(real.documents("product_sales")).equals(salesInSql));
        await().atMost(Duration.ofSeconds(20)).until(() -> productSales(real.latest("product_sales")).equals(salesInSql));
    }

    @Test
    @Order(2)
    void anOrderWaitsForItsCustomerThenGoesToUnmatched() throws Exception {
        real.sql("INSERT INTO customers VALUES (20, 'Gone Soon', 20, 'standard')", "DELETE FROM customers WHERE id = 20");
        real.sql("INSERT INTO orders VALUES (1100, 30, 50.00, 'TEE-01')",   // its customer comes a second later
                "INSERT INTO orders VALUES (1101, 20, 10.00, 'PEN-05')",    // its customer was deleted
                "INSERT INTO orders VALUES (1102, 31, 12.00, 'PEN-05')");   // its customer never comes
        Thread.sleep(1000); // the scenario: the customer comes a second after its order (not a wait for a result)
        real.sql("INSERT INTO customers VALUES (30, 'Late Comer', 30, 'premium')");

        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.records("enriched_orders.unmatched").size() >= 2);
        Map<String, String> unmatched = real.records("enriched_orders.unmatched").stream().collect(Collectors.toMap(
                ConsumerRecord::key, r -> new String(r.headers().lastHeader(DeadLetter.ERROR).value(), StandardCharsets.UTF_8)));
        assertEquals(Map.of("1101", "customer 20 not found", "1102", "customer 31 not found"), unmatched);

        JsonNode late = real.documents("enriched_orders").get("1100");
        assertNotNull(late, "the order whose customer came late is joined");
        assertEquals("Late Comer", late.get("customer_name").asText());
        assertFalse(real.documents("enriched_orders").containsKey("1101"));
        assertFalse(real.documents("enriched_orders").containsKey("1102"));
        awaitIndexEqualsSqlJoin();
    }

    @Test
    @Order(3)
    void inCurrentModeACustomerUpdateRewritesItsOrders() throws Exception {
        long ordersOfCustomer1 = real.sqlJoin().values().stream().filter(o -> o.get("customer_id").asInt() == 1).count();
        assertTrue(ordersOfCustomer1 >= 3, "customer 1 has orders to rewrite");

        real.sql("UPDATE customers SET name = 'Amelia Stone', membership = 'standard' WHERE id = 1");

        awaitIndexEqualsSqlJoin();
        assertEquals(ordersOfCustomer1, real.documents("enriched_orders").values().stream()
                .filter(o -> o.get("customer_name").asText().equals("Amelia Stone")).count());
        await().atMost(Duration.ofSeconds(20)).until(() -> real.latest("enriched_orders").equals(real.sqlJoin()));
    }

    @Test
    @Order(4)
    void afterARestartOrdersAreJoinedWithTheRebuiltTable() throws Exception {
        pipeline.stop();
        real.sql("UPDATE customers SET name = 'Bruno Two', age = 51 WHERE id = 2",
                "UPDATE customers SET name = 'Bruno Three', age = 52 WHERE id = 2",
                "UPDATE customers SET name = 'Bruno Final', membership = 'premium' WHERE id = 2",
                "INSERT INTO orders VALUES (1200, 2, 77.00, 'MUG-02')");

        pipeline = real.startPipeline(SETTINGS);

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").containsKey("1200"));
        assertEquals("Bruno Final", real.documents("enriched_orders").get("1200").get("customer_name").asText());
        awaitIndexEqualsSqlJoin();
        for (String topic : List.of("postgres.public.customers", ORDERS_TOPIC)) {
            List<String> changes = real.records(topic).stream().filter(r -> r.value() != null)
                    .map(r -> r.key() + " " + RealServices.tree(r.value()).path("source").path("lsn")).toList();
            assertEquals(changes.size(), Set.copyOf(changes).size(), "a graceful restart captures no change twice: " + topic);
        }
    }

    @Test
    @Order(5)
    void badRecordsGoToTheDeadLetterTopicAndTheRestIsEnriched() throws Exception {
        // the count of dead letters below is exact: first let the restarted pipeline's 3 consumers settle in their group
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.groupIsSettled(ENRICHMENT_GROUP, 3));
        List<Map.Entry<String, String>> records = new ArrayList<>();
        List<String> bad = List.of(
                "not json",
                "{\"before\":null,\"after\":null,\"source\":{},\"op\":\"c\",\"ts_ms\":1}",
                order("c", 0, "\"seven\"", "1.00"),
                order("x", 0, "7", "1.00"),
                "{\"after\":{\"order_id\":1,\"customer_id\":1,\"price\":1.00}, \"op\":\"c\"}");
        for (int i = 0; i < 1000; i++) {
            records.add(Map.entry("{\"order_id\":" + (5000 + i) + "}", order("c", 5000 + i, String.valueOf(1 + i % 12), "10.00")));
            if (i % 10 == 9) {
                records.add(Map.entry("{\"order_id\":" + (9000 + i) + "}", bad.get(i / 10 % bad.size())));
            }
        }
        real.produce(ORDERS_TOPIC, records);

        Set<String> good = IntStream.range(5000, 6000).mapToObj(String::valueOf).collect(Collectors.toSet());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            Set<String> missing = new TreeSet<>(good);
            missing.removeAll(real.documents("enriched_orders").keySet());
            assertEquals(Set.of(), missing, missing.size() + " good orders not indexed");
        });
        List<ConsumerRecord<String, String>> deadLetters = real.records("etl.dlq");
        assertEquals(100, deadLetters.size());
        for (ConsumerRecord<String, String> deadLetter : deadLetters) {
            assertTrue(bad.contains(deadLetter.value()), deadLetter.value());
            assertNotNull(deadLetter.headers().lastHeader(DeadLetter.ERROR));
            assertEquals(ORDERS_TOPIC, RealServices.header(deadLetter, DeadLetter.SOURCE_TOPIC));
            assertNotNull(RealServices.header(deadLetter, DeadLetter.SOURCE_OFFSET));
        }
        assertTrue(RealServices.header(deadLetters.get(0), DeadLetter.ERROR).startsWith("InvalidRecordException"),
                RealServices.header(deadLetters.get(0), DeadLetter.ERROR));
    }

    @Test
    @Order(6)
    void aDocumentElasticsearchRejectsGoesToTheDeadLetterTopicWithItsReason() throws Exception {
        int deadLettersBefore = real.records("etl.dlq").size();
        real.produce(ORDERS_TOPIC, List.of(
                Map.entry("{\"order_id\":7000}", order("c", 7000, "1", "1E+400")), // beyond a double: ES refuses it
                Map.entry("{\"order_id\":7001}", order("c", 7001, "1", "15.00"))));

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.records("etl.dlq").size() > deadLettersBefore);
        ConsumerRecord<String, String> deadLetter = real.records("etl.dlq").get(deadLettersBefore);
        assertTrue(RealServices.header(deadLetter, DeadLetter.ERROR).startsWith("Elasticsearch rejected document 7000 (HTTP 400)"),
                RealServices.header(deadLetter, DeadLetter.ERROR));
        assertTrue(deadLetter.value().startsWith("{\"order_id\":7000,"), deadLetter.value());
        await().atMost(Duration.ofSeconds(10)).until(() -> real.documents("enriched_orders").containsKey("7001"));
        assertNull(real.documents("enriched_orders").get("7000"));
    }

    @Test
    @Order(7)
    void anElasticsearchOutageStallsThePipelineAndLosesNothing() throws Exception {
        int deadLettersBefore = real.records("etl.dlq").size();
        Map<Integer, Long> before = real.endOffsets(ORDERS_TOPIC);
        await().atMost(Duration.ofSeconds(30)).until(() -> real.committedOffsets(ENRICHMENT_GROUP, ORDERS_TOPIC).equals(before));
        real.stopElasticsearch();
        try {
            real.insertOrders(8000, 200, 20, new java.util.concurrent.atomic.AtomicInteger());
            Set<String> inserted = IntStream.range(8000, 8200).mapToObj(i -> "{\"order_id\":" + i + "}")
                    .collect(Collectors.toSet());
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> real.records(ORDERS_TOPIC)
                    .stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(inserted));
            // captured, and held: while ES is away, no offset of these orders is committed (the batch waits, retrying)
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(500))
                    .until(() -> real.committedOffsets(ENRICHMENT_GROUP, ORDERS_TOPIC).equals(before));
        } finally {
            real.startElasticsearchAgain();
        }

        Map<String, JsonNode> expected = new TreeMap<>(real.sqlJoin());
        expected.keySet().removeIf(id -> id.length() != 4 || !id.startsWith("8"));
        assertEquals(200, expected.size());
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            Map<String, JsonNode> indexed = new TreeMap<>(real.documents("enriched_orders"));
            indexed.keySet().retainAll(expected.keySet());
            return indexed.equals(expected);
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> real.latest("enriched_orders").keySet().containsAll(expected.keySet()));
        assertEquals(deadLettersBefore, real.records("etl.dlq").size(), "an outage is not a reason to dead-letter");
        await().atMost(Duration.ofSeconds(30)).until(() -> real.committedOffsets(ENRICHMENT_GROUP, ORDERS_TOPIC)
                .equals(real.endOffsets(ORDERS_TOPIC)));
    }

    private void awaitIndexEqualsSqlJoin() {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").equals(real.sqlJoin()));
    }

    private static Map<String, Long> productSales(Map<String, JsonNode> documents) {
        Map<String, Long> sales = new TreeMap<>();
        documents.forEach((code, document) -> sales.put(code, document.get("order_count").asLong()));
        return sales;
    }

    private static String order(String op, int orderId, String customerId, String price) {
        return "{\"before\":null,\"after\":{\"order_id\":%d,\"customer_id\":%s,\"price\":%s,\"product_code\":\"TEE-01\"},"
                .formatted(orderId, customerId, price)
               + "\"source\":{\"ts_ms\":1,\"lsn\":%d},\"op\":\"%s\",\"ts_ms\":1}".formatted(orderId, op);
    }
}
