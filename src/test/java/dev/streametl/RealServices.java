package dev.streametl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Real PostgreSQL, Kafka and Elasticsearch for a test class, started by the project's own code on free ports with the
 * sample data loaded, and what the tests need to drive them and read the results: SQL, the SQL join of the source
 * tables, the documents of an index, the records of a topic.
 */
final class RealServices implements AutoCloseable {

    static final Path ELASTICSEARCH_HOME = Path.of(System.getProperty("etl.embedded.elasticsearch-home",
            "target/elasticsearch-9.2.4"));
    static final String JOIN = "SELECT o.order_id, o.customer_id, o.price, o.product_code, c.name, c.age, c.membership"
                               + " FROM orders o JOIN customers c ON c.id = o.customer_id";

    final Path dataDir;
    final EmbeddedServices services;
    final String jdbcUrl;
    final String kafka;
    final String elasticsearch;
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Main> pipelines = new ArrayList<>();

    private RealServices(Path dataDir, EmbeddedServices services) {
        this.dataDir = dataDir;
        this.services = services;
        this.jdbcUrl = services.postgres().orElseThrow().jdbcUrl();
        this.kafka = services.kafka().orElseThrow().bootstrapServers();
        this.elasticsearch = services.elasticsearch().orElseThrow().url();
    }

    /** Starts the three servers with their data in {@code dataDir}, the database loaded with the sample data. */
    static RealServices start(Path dataDir) throws Exception {
        // Elasticsearch runs as 'nobody' when the tests run as root: it must be able to enter the folder
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new RealServices(dataDir, EmbeddedServices.start(new EmbeddedSettings(dataDir, 0, 0, 0, ELASTICSEARCH_HOME,
                List.of(Path.of("sql/create_table.sql"), Path.of("sql/input_data.sql")), true, true, true)));
    }

    /** The properties that point the pipeline at these servers, its state kept in the data folder. */
    Map<String, String> pipelineProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("etl.embedded.enabled", "false");
        properties.put("etl.embedded.data-dir", dataDir.toString());
        properties.put("etl.postgres.port", String.valueOf(services.postgres().orElseThrow().port()));
        properties.put("etl.kafka.brokers", kafka);
        properties.put("etl.elasticsearch.port", String.valueOf(services.elasticsearch().orElseThrow().port()));
        // the management server (health, metrics) on a port of its own: tests run beside a pipeline on 9876
        properties.put("camel.management.port", String.valueOf(freePort()));
        return properties;
    }

    /** A port nobody listens on at the moment. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the pipeline in this JVM on these servers, with the given settings on top. */
    Main startPipeline(Map<String, String> settings) throws Exception {
        Main pipeline = new Main(App.class);
        pipelineProperties().forEach(pipeline::addOverrideProperty);
        settings.forEach(pipeline::addOverrideProperty);
        pipelines.add(pipeline);
        pipeline.start();
        return pipeline;
    }

    void sql(String... statements) throws Exception {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement()) {
            for (String statement : statements) {
                sql.execute(statement);
            }
        }
    }

    /** The enriched orders as PostgreSQL itself joins them, by order id. */
    Map<String, JsonNode> sqlJoin() throws Exception {
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

    /** The documents of an index, by id (none if the index does not exist). */
    Map<String, JsonNode> documents(String index) throws IOException, InterruptedException {
        http.send(HttpRequest.newBuilder(URI.create(elasticsearch + "/" + index + "/_refresh"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create(elasticsearch + "/" + index + "/_search?size=10000")).build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, JsonNode> documents = new TreeMap<>();
        if (response.statusCode() == 200) {
            for (JsonNode hit : tree(response.body()).path("hits").path("hits")) {
                documents.put(hit.get("_id").asText(), hit.get("_source"));
            }
        }
        return documents;
    }

    /** Every record of a topic, partition after partition. */
    List<ConsumerRecord<String, String>> records(String topic) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }

    /** The current value of every key of a compacted topic: its latest record, a key whose latest is a tombstone left out. */
    Map<String, JsonNode> latest(String topic) {
        Map<String, JsonNode> latest = new TreeMap<>();
        for (ConsumerRecord<String, String> record : records(topic)) {
            if (record.value() == null) {
                latest.remove(record.key());
            } else {
                latest.put(record.key(), tree(record.value()));
            }
        }
        return latest;
    }

    /** Writes raw records (key, value) to a topic, in order. */
    void produce(String topic, List<Map.Entry<String, String>> records) throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                new StringSerializer())) {
            for (Map.Entry<String, String> record : records) {
                producer.send(new ProducerRecord<>(topic, record.getKey(), record.getValue()));
            }
            producer.flush();
        }
    }

    static JsonNode tree(String json) {
        return Json.read(json, JsonNode.class);
    }

    /** Stops the pipelines started here that still run, then the servers. */
    @Override
    public void close() {
        pipelines.forEach(Main::stop);
        services.close();
    }
}
