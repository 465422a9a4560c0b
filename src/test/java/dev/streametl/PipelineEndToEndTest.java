package dev.streametl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.pipeline.Customer;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.caffeine.CaffeineConstants;
import org.apache.camel.main.Main;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole pipeline on real PostgreSQL, Kafka and Elasticsearch, started by the project's own code on free ports:
 * the sample data must end up enriched in Elasticsearch and on the enriched_orders topic exactly as the SQL join of the
 * source tables says, and new orders must follow within seconds. Customer updates in the default mode (as-of-order).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineEndToEndTest {

    @TempDir
    static Path tempDir;

    RealServices real;
    Main pipeline;

    @BeforeAll
    void startServicesAndPipeline() throws Exception {
        real = RealServices.start(tempDir);
        pipeline = real.startPipeline(Map.of());
    }

    @AfterAll
    void stop() {
        if (real != null) {
            real.close(); // the pipeline first
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void sampleOrdersAreIndexedEnrichedAsTheSqlJoinSays() throws Exception {
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(50, expected.size());

        RealServices.awaitSettled(expected, () -> real.documents("enriched_orders"), Duration.ofMinutes(2));
        RealServices.awaitSettled(expected, () -> real.latest("enriched_orders", Duration.ofSeconds(30)),
                Duration.ofSeconds(30));
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void newOrdersFollowWithinSeconds() throws Exception {
        real.sql(Files.readString(Path.of("sql/addnew_orders.sql")));
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(52, expected.size());

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.documents("enriched_orders"), documents -> documents.keySet().containsAll(List.of("52", "53")));

        RealServices.awaitSettled(expected, () -> real.documents("enriched_orders"), Duration.ofSeconds(10));
        RealServices.awaitSettled(expected, () -> real.latest("enriched_orders", Duration.ofSeconds(10)),
                Duration.ofSeconds(10));
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void byDefaultAnOrderKeepsTheCustomerAsItWasWhenEnriched() throws Exception {
        JsonNode before = real.documents("enriched_orders").get("52");
        real.sql("UPDATE customers SET name = 'Renamed Later', membership = 'premium' WHERE id = 4");
        // the order comes once the customer table (the enrichment's own lookup) has the change, not merely the topic
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> customerInTable(4).map(Customer::name), Optional.of("Renamed Later")::equals);
        real.sql("INSERT INTO orders VALUES (54, 4, 20.00, 'CAP-03')");

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.documents("enriched_orders").containsKey("54"));

        assertEquals("Renamed Later", real.documents("enriched_orders").get("54").get("customer_name").asText());
        assertEquals("premium", real.documents("enriched_orders").get("54").get("customer_membership").asText());
        assertEquals(before, real.documents("enriched_orders").get("52"), "as-of-order: order 52 is not rewritten");
    }

    @Test
    @org.junit.jupiter.api.Order(4)
    void topicsAndTheIndexMappingAreTheConfiguredOnes() throws Exception {
        try (Admin admin = real.admin()) {
            Map<String, TopicDescription> topics = admin.describeTopics(List.of("postgres.public.customers",
                    "postgres.public.orders", "enriched_orders")).allTopicNames().get(30, TimeUnit.SECONDS);
            assertEquals(1, topics.get("postgres.public.customers").partitions().size());
            assertEquals(3, topics.get("postgres.public.orders").partitions().size());
            assertEquals(3, topics.get("enriched_orders").partitions().size());
            Map<ConfigResource, org.apache.kafka.clients.admin.Config> configs = admin.describeConfigs(List.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, "postgres.public.customers"),
                    new ConfigResource(ConfigResource.Type.TOPIC, "postgres.public.orders"))).all().get(30, TimeUnit.SECONDS);
            assertEquals("compact", configs.get(new ConfigResource(ConfigResource.Type.TOPIC, "postgres.public.customers"))
                    .get("cleanup.policy").value());
            assertEquals("delete", configs.get(new ConfigResource(ConfigResource.Type.TOPIC, "postgres.public.orders"))
                    .get("cleanup.policy").value());
        }

        JsonNode fields = real.elasticsearchGet("/enriched_orders/_mapping").path("enriched_orders").path("mappings")
                .path("properties");
        assertEquals("keyword", fields.path("product_code").path("type").asText());
        assertEquals("keyword", fields.path("customer_membership").path("type").asText());
        assertEquals("keyword", fields.path("customer_name").path("type").asText());
        assertEquals("double", fields.path("price").path("type").asText());
        assertEquals("integer", fields.path("customer_age").path("type").asText());
    }

    @Test
    @org.junit.jupiter.api.Order(5)
    void compactionKeepsTheLatestValueOfEachKeyOnTheEnrichedOrdersAndProductSalesTopics() throws Exception {
        // segments closed after a second and cleaned at once (test-only topic configs): the broker's log cleaner then
        // runs on them within its backoff (log.cleaner.backoff.ms, 15 s), instead of after days
        try (Admin admin = real.admin()) {
            Map<ConfigResource, java.util.Collection<AlterConfigOp>> configs = new java.util.HashMap<>();
            for (String topic : List.of("enriched_orders", "product_sales")) {
                configs.put(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(
                        new AlterConfigOp(new ConfigEntry("segment.ms", "1000"), AlterConfigOp.OpType.SET),
                        new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.01"), AlterConfigOp.OpType.SET)));
            }
            admin.incrementalAlterConfigs(configs).all().get(30, TimeUnit.SECONDS);
        }
        real.sql("UPDATE orders SET price = price + 1", "UPDATE orders SET product_code = 'HAT-06' WHERE order_id <= 5");
        Map<String, JsonNode> expected = real.sqlJoin();
        RealServices.awaitSettled(expected, () -> real.documents("enriched_orders"), Duration.ofSeconds(30));
        Map<String, Long> expectedSales = new java.util.TreeMap<>(expected.values().stream().collect(
                java.util.stream.Collectors.groupingBy(o -> o.get("product_code").asText(), java.util.stream.Collectors.counting())));
        RealServices.awaitSettled(expectedSales, () -> orderCounts(real.latest("product_sales")), Duration.ofSeconds(30));
        assertTrue(keyCounts(real.records("enriched_orders")).get("1") >= 2, "order 1: its first value and its update");

        // a record on each partition, more than segment.ms later, closes the segments that hold the updates (the
        // cleaner never touches the active segment): new orders of a product of their own, one per partition
        Thread.sleep(1500); // the scenario: later than segment.ms (not a wait for a result)
        java.util.Set<Integer> partitions = new java.util.TreeSet<>();
        List<String> newOrders = new java.util.ArrayList<>();
        for (int id = 900; partitions.size() < 3; id++) {
            if (partitions.add(org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                    String.valueOf(id).getBytes(java.nio.charset.StandardCharsets.UTF_8))) % 3)) {
                newOrders.add(String.valueOf(id));
                real.sql("INSERT INTO orders VALUES (" + id + ", 1, 1.00, 'ZZZ-99')");
            }
        }

        // the topics themselves, not a fold of them: one record left per key, the latest, equal to the SQL join
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
            List<ConsumerRecord<String, String>> orders = real.records("enriched_orders").stream()
                    .filter(r -> !newOrders.contains(r.key())).toList();
            assertEquals(expected.keySet(), keyCounts(orders).keySet());
            assertTrue(keyCounts(orders).values().stream().allMatch(n -> n == 1), "one record per order: " + keyCounts(orders));
            assertEquals(expected, RealServices.latest(orders));
            List<ConsumerRecord<String, String>> sales = real.records("product_sales").stream()
                    .filter(r -> !r.key().equals("ZZZ-99")).toList();
            assertTrue(keyCounts(sales).values().stream().allMatch(n -> n == 1), "one record per product: " + keyCounts(sales));
            assertEquals(expectedSales, orderCounts(RealServices.latest(sales)));
        });
    }

    private static Map<String, Long> keyCounts(List<ConsumerRecord<String, String>> records) {
        return records.stream().collect(java.util.stream.Collectors.groupingBy(ConsumerRecord::key,
                java.util.TreeMap::new, java.util.stream.Collectors.counting()));
    }

    private static Map<String, Long> orderCounts(Map<String, JsonNode> productSales) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        productSales.forEach((code, sales) -> counts.put(code, sales.get("order_count").asLong()));
        return counts;
    }

    /** The customer as the running pipeline's customer table has it now, looked up the way the enrichment does. */
    private Optional<Customer> customerInTable(int id) throws Exception {
        try (ProducerTemplate template = pipeline.getCamelContext().createProducerTemplate()) {
            Exchange lookup = template.send("{{etl.customers.table}}", exchange -> {
                exchange.getMessage().setHeader(CaffeineConstants.ACTION, CaffeineConstants.ACTION_GET);
                exchange.getMessage().setHeader(CaffeineConstants.KEY, id);
            });
            boolean found = Boolean.TRUE.equals(lookup.getMessage().getHeader(CaffeineConstants.ACTION_HAS_RESULT, Boolean.class));
            return found ? Optional.of(lookup.getMessage().getBody(Customer.class)) : Optional.empty();
        }
    }
}
