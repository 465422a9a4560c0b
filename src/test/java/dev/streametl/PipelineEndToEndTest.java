package dev.streametl;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.embedded.EmbeddedServices;
import dev.streametl.embedded.EmbeddedSettings;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.Order;
import org.apache.camel.main.Main;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The whole pipeline on real PostgreSQL, Kafka and Elasticsearch, started by the project's own code on free ports:
 * the sample data must end up enriched in Elasticsearch and on the enriched_orders topic exactly as the SQL join of the
 * source tables says, and new orders must follow within seconds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineEndToEndTest {

    static final Path ELASTICSEARCH_HOME = Path.of(System.getProperty("etl.embedded.elasticsearch-home",
            "target/elasticsearch-9.2.4"));
    static final String JOIN = "SELECT o.order_id, o.customer_id, o.price, o.product_code, c.name, c.age, c.membership"
                               + " FROM orders o JOIN customers c ON c.id = o.customer_id";

    @TempDir
    static Path tempDir;

    EmbeddedServices services;
    Main pipeline;
    String jdbcUrl;
    String elasticsearch;
    String kafka;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void startServicesAndPipeline() throws Exception {
        // Elasticsearch runs as 'nobody' when the tests run as root: it must be able to enter the folder
        Files.setPosixFilePermissions(tempDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        services = EmbeddedServices.start(new EmbeddedSettings(tempDir, 0, 0, 0, ELASTICSEARCH_HOME,
                List.of(Path.of("sql/create_table.sql"), Path.of("sql/input_data.sql")), true, true, true));
        jdbcUrl = services.postgres().orElseThrow().jdbcUrl();
        kafka = services.kafka().orElseThrow().bootstrapServers();
        elasticsearch = services.elasticsearch().orElseThrow().url();

        pipeline = new Main(App.class);
        pipeline.addOverrideProperty("etl.embedded.enabled", "false");
        pipeline.addOverrideProperty("etl.embedded.data-dir", tempDir.toString());
        pipeline.addOverrideProperty("etl.postgres.port", String.valueOf(services.postgres().orElseThrow().port()));
        pipeline.addOverrideProperty("etl.kafka.brokers", kafka);
        pipeline.addOverrideProperty("etl.elasticsearch.port", String.valueOf(services.elasticsearch().orElseThrow().port()));
        pipeline.start();
    }

    @AfterAll
    void stop() {
        if (pipeline != null) {
            pipeline.stop();
        }
        if (services != null) {
            services.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void sampleOrdersAreIndexedEnrichedAsTheSqlJoinSays() throws Exception {
        Map<String, JsonNode> expected = sqlJoin();
        assertEquals(50, expected.size());

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> indexed().size() == expected.size());

        assertEquals(expected, indexed());
        await().atMost(Duration.ofSeconds(30)).until(() -> enrichedOrdersTopic().size() == expected.size());
        assertEquals(expected, enrichedOrdersTopic());
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void newOrdersFollowWithinSeconds() throws Exception {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement()) {
            sql.execute(Files.readString(Path.of("sql/addnew_orders.sql")));
        }
        Map<String, JsonNode> expected = sqlJoin();
        assertEquals(52, expected.size());

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(this::indexed, documents -> documents.keySet().containsAll(List.of("52", "53")));

        assertEquals(expected, indexed());
        await().atMost(Duration.ofSeconds(10)).until(() -> enrichedOrdersTopic().size() == expected.size());
        assertEquals(expected, enrichedOrdersTopic());
        assertEquals(expected.get("52"), indexed().get("52"));
    }

    /** The enriched orders as PostgreSQL itself joins them, by order id. */
    private Map<String, JsonNode> sqlJoin() throws Exception {
        Map<String, JsonNode> rows = new TreeMap<>();
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement(); ResultSet join = sql.executeQuery(JOIN)) {
            while (join.next()) {
                Order order = new Order(join.getInt("order_id"), join.getInt("customer_id"), join.getBigDecimal("price"),
                        join.getString("product_code"));
                Customer customer = new Customer(order.customerId(), join.getString("name"),
                        (Integer) join.getObject("age"), join.getString("membership"));
                rows.put(String.valueOf(order.orderId()), tree(Json.write(EnrichedOrder.of(order, customer))));
            }
        }
        return rows;
    }

    /** The documents of the enriched_orders index, by id. */
    private Map<String, JsonNode> indexed() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create(elasticsearch + "/enriched_orders/_search?size=1000")).build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, JsonNode> documents = new TreeMap<>();
        if (response.statusCode() == 200) {
            for (JsonNode hit : tree(response.body()).path("hits").path("hits")) {
                documents.put(hit.get("_id").asText(), hit.get("_source"));
            }
        }
        return documents;
    }

    /** The latest value of every key of the enriched_orders topic. */
    private Map<String, JsonNode> enrichedOrdersTopic() {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, JsonNode> latest = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            var partitions = consumer.partitionsFor("enriched_orders").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    latest.put(record.key(), record.value() == null ? null : tree(record.value()));
                }
            }
        }
        return new TreeMap<>(latest);
    }

    private static JsonNode tree(String json) {
        return Json.read(json, JsonNode.class);
    }
}
