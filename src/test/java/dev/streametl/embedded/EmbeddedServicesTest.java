package dev.streametl.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.apache.camel.impl.DefaultCamelContext;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Starts the three real servers, uses each one, stops them, and checks that PostgreSQL data survives a restart. */
class EmbeddedServicesTest {

    private static final Path ELASTICSEARCH_HOME =
            Path.of(System.getProperty("etl.embedded.elasticsearch-home", EmbeddedElasticsearch.DEFAULT_HOME.toString()));

    @TempDir
    Path tempDir;

    @Test
    @Timeout(120)
    void startsUsesStopsAndKeepsData() throws Exception {
        // as root, Elasticsearch runs as nobody, who must be able to traverse the (0700) temp dir
        Files.setPosixFilePermissions(tempDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dataDir = tempDir.resolve("data");
        List<Path> scripts = List.of(
                write(tempDir.resolve("create_table.sql"), "CREATE TABLE customers (id INT PRIMARY KEY, name TEXT NOT NULL);"),
                write(tempDir.resolve("input_data.sql"), "INSERT INTO customers VALUES (1, 'Ada');\nINSERT INTO customers VALUES (2, 'Linus');"));
        EmbeddedSettings settings = new EmbeddedSettings(dataDir, 0, 0, 0, ELASTICSEARCH_HOME, scripts, true, true, true);

        List<Integer> ports = new ArrayList<>();
        List<ProcessHandle> elasticsearchProcesses = new ArrayList<>();
        try (EmbeddedServices services = EmbeddedServices.start(settings)) {
            EmbeddedPostgres postgres = services.postgres().orElseThrow();
            EmbeddedKafka kafka = services.kafka().orElseThrow();
            EmbeddedElasticsearch elasticsearch = services.elasticsearch().orElseThrow();
            ports.addAll(List.of(postgres.port(), kafka.port(), elasticsearch.port()));
            elasticsearchProcesses.add(elasticsearch.processHandle());
            elasticsearch.processHandle().descendants().forEach(elasticsearchProcesses::add);

            usePostgres(postgres);
            useKafka(kafka);
            useElasticsearch(elasticsearch);
        }

        for (int port : ports) {
            assertTrue(Ports.isFree(port), "port " + port + " should be free after close()");
        }
        for (ProcessHandle process : elasticsearchProcesses) {
            assertFalse(process.isAlive(), "Elasticsearch process " + process.pid() + " should be gone");
        }
        String esDataDir = settings.elasticsearchDir().toString();
        assertTrue(ProcessHandle.allProcesses().noneMatch(p -> ProcessTree.commandLine(p).contains(esDataDir)),
                "no process of this Elasticsearch should remain");

        // the same data directory again: the rows are still there and the init scripts did not run twice
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start(0, settings.postgresDir(), scripts)) {
            assertEquals(List.of("Ada", "Linus", "Grace"), query(postgres, "SELECT name FROM customers ORDER BY id"));
        }
    }

    @Test
    void embedsOnlyLoopbackServicesAndResolvesPlaceholders() {
        DefaultCamelContext camel = new DefaultCamelContext();
        Properties properties = new Properties();
        properties.put("etl.kafka.brokers", "{{env:ETL_EMBEDDED_TEST_UNSET:localhost:19092}}");
        properties.put("etl.postgres.host", "db.example.com");
        properties.put("etl.elasticsearch.url", "http://localhost:19200");
        properties.put("etl.embedded.init-scripts", "a.sql, b.sql");
        camel.getPropertiesComponent().setInitialProperties(properties);

        EmbeddedSettings settings = EmbeddedServicesConfiguration.settingsFrom(camel.getPropertiesComponent()::resolveProperty).orElseThrow();

        assertFalse(settings.postgres(), "a non-loopback PostgreSQL is external");
        assertTrue(settings.kafka());
        assertEquals(19092, settings.kafkaPort());
        assertTrue(settings.elasticsearch());
        assertEquals(19200, settings.elasticsearchPort());
        assertEquals(List.of(Path.of("a.sql"), Path.of("b.sql")), settings.initScripts());
        assertEquals(Path.of("data", "postgres"), settings.postgresDir());

        properties.put("etl.embedded.enabled", "false");
        camel.getPropertiesComponent().setInitialProperties(properties);
        assertEquals(Optional.empty(), EmbeddedServicesConfiguration.settingsFrom(camel.getPropertiesComponent()::resolveProperty));
    }

    private static void usePostgres(EmbeddedPostgres postgres) throws SQLException {
        try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD);
             Statement statement = connection.createStatement()) {
            statement.execute("INSERT INTO customers VALUES (3, 'Grace')");
        }
        assertEquals(List.of("logical"), query(postgres, "SHOW wal_level"));
        assertEquals(List.of("Ada", "Linus", "Grace"), query(postgres, "SELECT name FROM customers ORDER BY id"));
    }

    private static void useKafka(EmbeddedKafka kafka) throws Exception {
        String topic = "embedded-test";
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            producer.send(new ProducerRecord<>(topic, "customer-1", "Ada")).get();
        }
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "embedded-test",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> received = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (received.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(received::add);
            }
            assertEquals(1, received.size(), "one record consumed");
            assertEquals("customer-1", received.get(0).key());
            assertEquals("Ada", received.get(0).value());
        }
    }

    private static void useElasticsearch(EmbeddedElasticsearch elasticsearch) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(elasticsearch.url() + "/customers/_doc/1?refresh=true"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"name\":\"Ada\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, put.statusCode(), put.body());

        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create(elasticsearch.url() + "/customers/_doc/1")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, get.statusCode(), get.body());
        assertTrue(get.body().contains("\"found\":true") && get.body().contains("\"name\":\"Ada\""), get.body());
    }

    private static List<String> query(EmbeddedPostgres postgres, String sql) throws SQLException {
        try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD);
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rows.next()) {
                values.add(rows.getString(1));
            }
            return values;
        }
    }

    private static Path write(Path file, String content) throws Exception {
        return Files.writeString(file, content);
    }
}
