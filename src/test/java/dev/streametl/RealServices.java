package dev.streametl;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.embedded.EmbeddedElasticsearch;
import dev.streametl.embedded.EmbeddedServices;
import dev.streametl.embedded.EmbeddedSettings;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.Json;
import dev.streametl.observe.JolokiaAccess;
import dev.streametl.observe.ManagementAccess;
import dev.streametl.pipeline.Order;
import org.apache.camel.main.Main;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
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
    /** Elasticsearch started again after {@link #stopElasticsearch()}, if it was. */
    private EmbeddedElasticsearch restartedElasticsearch;

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
        properties.put("etl.elasticsearch.url", elasticsearch);
        // the management server (health, metrics) on a port of its own: tests run beside a pipeline on 9876
        properties.put("camel.management.port", String.valueOf(freePort()));
        return properties;
    }

    /** A port nobody listens on at the moment. */
    static int freePort() {
        return EmbeddedServices.freePort();
    }

    /** Stops Elasticsearch, as an outage would; {@link #startElasticsearchAgain()} brings it back with its data. */
    void stopElasticsearch() {
        services.elasticsearch().orElseThrow().close();
    }

    /** Starts Elasticsearch again on the same port and data folder; returns once it is healthy. */
    void startElasticsearchAgain() throws IOException {
        restartedElasticsearch = EmbeddedElasticsearch.start(services.elasticsearch().orElseThrow().port(),
                dataDir.resolve("elasticsearch"), ELASTICSEARCH_HOME);
    }

    /** Starts the pipeline in this JVM on these servers, with the given settings on top. */
    Main startPipeline(Map<String, String> settings) throws Exception {
        Main pipeline = new Main(App.class);
        pipeline.addMainListener(new ManagementAccess()); // as App does
        pipeline.addMainListener(new JolokiaAccess());
        pipelineProperties().forEach(pipeline::addOverrideProperty);
        settings.forEach(pipeline::addOverrideProperty);
        pipelines.add(pipeline);
        pipeline.start();
        return pipeline;
    }

    /**
     * Starts the pipeline's main class in a JVM of its own, on the classpath of a plain run, on these servers, with the
     * given settings on top, logging to {@code app-NAME.log} in the data folder.
     */
    Process startApp(String name, Map<String, String> settings) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-cp", runtimeClasspath()));
        Map<String, String> properties = new LinkedHashMap<>(pipelineProperties());
        properties.putAll(settings);
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add(App.class.getName());
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dataDir.resolve("app-" + name + ".log").toFile()).start();
    }

    /**
     * The classes and the runtime dependencies only, as {@code camel:run} has them: a component that only the tests
     * bring along (camel-test pulls in camel-core) must not make an app process work that a real run cannot start.
     */
    static String runtimeClasspath() throws IOException {
        Path dependencies = Path.of("target", "runtime-classpath.txt");
        if (!Files.exists(dependencies)) {
            throw new IllegalStateException(dependencies + " is missing: run the tests through Maven (./mvnw verify)");
        }
        return Path.of("target", "classes").toAbsolutePath() + java.io.File.pathSeparator
               + Files.readString(dependencies).trim();
    }

    void sql(String... statements) throws Exception {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement()) {
            for (String statement : statements) {
                sql.execute(statement);
            }
        }
    }

    /**
     * Inserts {@code count} orders from id {@code firstId} on, for customers 1 to 12, {@code perTransaction} per
     * transaction with a short pause between transactions (a steady flow, not one burst), counting them in
     * {@code inserted} as they commit.
     */
    void insertOrders(int firstId, int count, int perTransaction, AtomicInteger inserted) {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             PreparedStatement insert = db.prepareStatement("INSERT INTO orders VALUES (?, ?, ?, ?)")) {
            db.setAutoCommit(false);
            for (int i = 0; i < count; i++) {
                insert.setInt(1, firstId + i);
                insert.setInt(2, 1 + i % 12);
                insert.setBigDecimal(3, new BigDecimal(i % 500 + ".25"));
                insert.setString(4, "TEE-0" + (1 + i % 6));
                insert.addBatch();
                if ((i + 1) % perTransaction == 0 || i + 1 == count) {
                    insert.executeBatch();
                    db.commit();
                    inserted.addAndGet((i % perTransaction) + 1);
                    Thread.sleep(5);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** SQL's count of orders per product: what product_sales must say. */
    Map<String, Long> salesInSql() throws Exception {
        Map<String, Long> sales = new TreeMap<>();
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement();
             ResultSet rows = sql.executeQuery("SELECT product_code, count(*) FROM orders GROUP BY product_code")) {
            while (rows.next()) {
                sales.put(rows.getString(1), rows.getLong(2));
            }
        }
        return sales;
    }

    /** Product sales by code, the products whose count fell to 0 left out (SQL has no row for them). */
    static Map<String, Long> counts(Map<String, JsonNode> documents) {
        Map<String, Long> counts = new TreeMap<>();
        documents.forEach((code, document) -> {
            if (document.get("order_count").asLong() != 0) {
                counts.put(code, document.get("order_count").asLong());
            }
        });
        return counts;
    }

    /** The enriched orders as PostgreSQL itself joins them, by order id. */
    Map<String, JsonNode> sqlJoin() throws Exception {
        return sqlJoinAt(jdbcUrl);
    }

    /** The documents of an index, by id (none if the index does not exist), all of them: read by scroll. */
    Map<String, JsonNode> documents(String index) throws IOException, InterruptedException {
        http.send(HttpRequest.newBuilder(URI.create(elasticsearch + "/" + index + "/_refresh"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        Map<String, JsonNode> documents = new TreeMap<>();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create(elasticsearch + "/" + index + "/_search?scroll=1m&size=5000&sort=_doc")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return documents;
        }
        JsonNode page = tree(response.body());
        while (page.path("hits").path("hits").size() > 0) {
            for (JsonNode hit : page.path("hits").path("hits")) {
                documents.put(hit.get("_id").asText(), hit.get("_source"));
            }
            String scroll = "{\"scroll\":\"1m\",\"scroll_id\":\"" + page.path("_scroll_id").asText() + "\"}";
            page = tree(http.send(HttpRequest.newBuilder(URI.create(elasticsearch + "/_search/scroll"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(scroll)).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
        }
        if (page.hasNonNull("_scroll_id")) {
            http.send(HttpRequest.newBuilder(URI.create(elasticsearch + "/_search/scroll/" + page.path("_scroll_id").asText()))
                    .DELETE().build(), HttpResponse.BodyHandlers.discarding());
        }
        return documents;
    }

    /** What Elasticsearch answers to a GET of this path, e.g. {@code /enriched_orders/_mapping}. */
    JsonNode elasticsearchGet(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(elasticsearch + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET " + path + ": " + response.statusCode() + " " + response.body());
        }
        return tree(response.body());
    }

    /** Every record of a topic, partition after partition, read within two minutes (or the test fails, saying where). */
    List<ConsumerRecord<String, String>> records(String topic) {
        return records(topic, Duration.ofMinutes(2));
    }

    /** The offset after the last record of each partition of a topic, by partition. */
    Map<Integer, Long> endOffsets(String topic) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            Map<Integer, Long> ends = new TreeMap<>();
            consumer.endOffsets(consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList())
                    .forEach((partition, offset) -> ends.put(partition.partition(), offset));
            return ends;
        }
    }

    /** An admin client of this Kafka; the caller closes it. */
    Admin admin() {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        return Admin.create(config);
    }

    /** A consumer group as the broker describes it; empty while no member has joined it yet. */
    Optional<ConsumerGroupDescription> consumerGroup(String group) throws Exception {
        try (Admin admin = admin()) {
            return Optional.of(admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** The offsets a consumer group has committed on a topic, by partition (a partition with none left out). */
    Map<Integer, Long> committedOffsets(String group, String topic) throws Exception {
        try (Admin admin = admin()) {
            Map<Integer, Long> committed = new TreeMap<>();
            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                    .forEach((partition, offset) -> {
                        if (partition.topic().equals(topic) && offset != null) {
                            committed.put(partition.partition(), offset.offset());
                        }
                    });
            return committed;
        }
    }

    /**
     * Whether a consumer group has settled: stable, with this many members, each owning partitions. Records sent before
     * that may be processed twice (a rebalance hands a partition over mid-batch: at least once), which a test counting
     * exactly must not mistake for a fault.
     */
    boolean groupIsSettled(String group, int members) throws Exception {
        try {
            return consumerGroup(group).filter(description -> description.groupState() == GroupState.STABLE
                    && description.members().size() == members
                    && description.members().stream().noneMatch(m -> m.assignment().topicPartitions().isEmpty()))
                    .isPresent();
        } catch (ExecutionException e) {
            return false; // not there yet
        }
    }

    /** The current value of every key of a compacted topic: its latest record, a key whose latest is a tombstone left out. */
    Map<String, JsonNode> latest(String topic) {
        return latest(topic, Duration.ofMinutes(2));
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

    /** Stops a process of the test (an app, Camel JBang): SIGTERM, and SIGKILL if it is still there after 60 s. */
    static void stop(Process process) throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** The text of a record's last header of that name; null if it has none. */
    static String header(ConsumerRecord<String, String> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    static JsonNode tree(String json) {
        return Json.read(json, JsonNode.class);
    }

    /** Stops the pipelines started here that still run, then the servers. */
    @Override
    public void close() {
        pipelines.forEach(Main::stop);
        if (restartedElasticsearch != null) {
            restartedElasticsearch.close();
        }
        if (restartedKafka != null) {
            restartedKafka.close();
        }
        if (restartedPostgres != null) {
            restartedPostgres.close();
        }
        services.close();
    }

    /**
     * Writes raw values to one partition of a topic, in order ("" stays an empty value), keyed "bad-0", "bad-1", ... (a
     * compacted topic takes no record without a key).
     */
    void produce(String topic, int partition, List<String> values) throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < values.size(); i++) {
                producer.send(new ProducerRecord<>(topic, partition, "bad-" + i, values.get(i)));
            }
            producer.flush();
        }
    }

    /** Asserts two sets of orders by id are equal; when not, the message names only the ids that differ. */
    static void assertSameOrders(Map<String, JsonNode> expected, Map<String, JsonNode> actual) {
        if (expected.equals(actual)) {
            return;
        }
        Map<String, String> differences = new TreeMap<>();
        java.util.Set<String> ids = new java.util.TreeSet<>(expected.keySet());
        ids.addAll(actual.keySet());
        for (String id : ids) {
            if (!java.util.Objects.equals(expected.get(id), actual.get(id))) {
                differences.put(id, "expected " + expected.get(id) + " but was " + actual.get(id));
            }
        }
        throw new AssertionError(differences.size() + " of " + ids.size() + " orders differ: " + differences);
    }

    // Added for the test harness (issue 10). Names outside java.lang are written out in full, so that the imports above
    // stay as they are and merges with changes there stay clean.

    /**
     * Awaits until {@code value} gives {@code expected} and keeps giving it for 2 s, within {@code atMost}: a count or a
     * set of documents read the moment it is reached may still move on (a batch that runs again, a late duplicate), and
     * a test that counts exactly must see that. On timeout, says what the value was.
     */
    static <T> void awaitSettled(T expected, java.util.concurrent.Callable<T> value, Duration atMost) {
        awaitSettled(expected, value, atMost, Duration.ofMillis(250));
    }

    /** {@link #awaitSettled(Object, java.util.concurrent.Callable, Duration)}, polling less often (thousands of documents). */
    static <T> void awaitSettled(T expected, java.util.concurrent.Callable<T> value, Duration atMost, Duration pollInterval) {
        org.awaitility.Awaitility.await().atMost(atMost).pollInterval(pollInterval).during(Duration.ofSeconds(2))
                .untilAsserted(() -> org.junit.jupiter.api.Assertions.assertEquals(expected, value.call()));
    }

    /** Awaits a value that has stopped moving, the same on every poll for 2 s, within {@code atMost}; returns it. */
    @SuppressWarnings("unchecked")
    static <T> T awaitStable(java.util.concurrent.Callable<T> value, Duration atMost) {
        Object none = new Object();
        java.util.concurrent.atomic.AtomicReference<Object> last = new java.util.concurrent.atomic.AtomicReference<>(none);
        org.awaitility.Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(250)).during(Duration.ofSeconds(2))
                .until(() -> {
                    Object now = value.call();
                    return java.util.Objects.equals(last.getAndSet(now), now);
                });
        return (T) last.get();
    }

    /**
     * {@link #records(String)} within a time limit: a topic that cannot be read to its end fails the test, saying where
     * it stopped, instead of hanging it.
     */
    List<ConsumerRecord<String, String>> records(String topic, Duration atMost) {
        long deadline = System.nanoTime() + atMost.toNanos();
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(atMost.toMillis()));
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    Map<TopicPartition, Long> positions = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
                    partitions.forEach(p -> positions.put(p, consumer.position(p)));
                    throw new AssertionError(topic + " not read to its end within " + atMost + ": at " + positions
                                             + ", the end at " + end);
                }
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }

    /** {@link #latest(String)} within a time limit, as {@link #records(String, Duration)} reads. */
    Map<String, JsonNode> latest(String topic, Duration atMost) {
        return latest(records(topic, atMost));
    }

    /** The current value of every key among these records, in order: a key whose latest is a tombstone left out. */
    static Map<String, JsonNode> latest(List<ConsumerRecord<String, String>> records) {
        Map<String, JsonNode> latest = new TreeMap<>();
        for (ConsumerRecord<String, String> record : records) {
            if (record.value() == null) {
                latest.remove(record.key());
            } else {
                latest.put(record.key(), tree(record.value()));
            }
        }
        return latest;
    }

    /** What {@link #sqlJoin()} gives, from a PostgreSQL these tests did not start (the one Camel JBang starts itself). */
    static Map<String, JsonNode> sqlJoinAt(String jdbcUrl) throws Exception {
        Map<String, JsonNode> rows = new TreeMap<>();
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement(); ResultSet join = sql.executeQuery(JOIN)) {
            while (join.next()) {
                Order order = new Order(join.getInt("order_id"), join.getInt("customer_id"), join.getBigDecimal("price"),
                        join.getString("product_code"));
                Customer customer = new Customer(order.customerId(), join.getString("name"),
                        (Integer) join.getObject("age"), join.getString("membership"));
                rows.put(String.valueOf(order.orderId()), tree(Json.write(EnrichedOrder.of(order, customer, 0))));
            }
        }
        return rows;
    }

    /**
     * What {@link #documents(String)} gives, from an Elasticsearch these tests did not start (the one Camel JBang starts
     * itself): the documents of an index by id, none while the index or the server is not there.
     */
    static Map<String, JsonNode> documentsAt(String elasticsearchUrl, String index) throws IOException {
        Map<String, JsonNode> documents = new TreeMap<>();
        try {
            elasticsearchCall("POST", elasticsearchUrl + "/" + index + "/_refresh");
            String response = elasticsearchCall("GET", elasticsearchUrl + "/" + index + "/_search?size=10000");
            for (JsonNode hit : tree(response).path("hits").path("hits")) {
                documents.put(hit.get("_id").asText(), hit.get("_source"));
            }
        } catch (java.net.ConnectException | java.io.FileNotFoundException notThereYet) {
            // the server is still starting, or the index not created yet
        }
        return documents;
    }

    /** One HTTP call with time limits (HttpURLConnection: no client threads left behind by a test that polls). */
    private static String elasticsearchCall(String method, String url) throws IOException {
        java.net.HttpURLConnection call = (java.net.HttpURLConnection) URI.create(url).toURL().openConnection();
        call.setRequestMethod(method);
        call.setConnectTimeout(5_000);
        call.setReadTimeout(30_000);
        try (java.io.InputStream body = call.getInputStream()) {
            return new String(body.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } finally {
            call.disconnect();
        }
    }

    // Added for the restart tests (issue 12). Names outside java.lang written out in full, as above.

    /** PostgreSQL started again after {@link #stopPostgres()}, if it was (the latest start). */
    private dev.streametl.embedded.EmbeddedPostgres restartedPostgres;
    /** Kafka started again after {@link #stopKafka()}, if it was (the latest start). */
    private dev.streametl.embedded.EmbeddedKafka restartedKafka;

    /**
     * Stops PostgreSQL (a fast shutdown: every session, replication included, is disconnected), as a restart of the
     * server would; {@link #startPostgresAgain()} brings it back with its data.
     */
    void stopPostgres() {
        (restartedPostgres != null ? restartedPostgres : services.postgres().orElseThrow()).close();
        // pg_ctl gives up after 5 s while a walsender still waits for its client to confirm what it was sent (the
        // server then goes on shutting down): stopped means the postmaster is gone
        Path postmasterPid = dataDir.resolve("postgres").resolve("pgdata").resolve("postmaster.pid");
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(100))
                .until(() -> !Files.exists(postmasterPid));
    }

    /**
     * Starts PostgreSQL again on the same port and data folder; returns once it takes connections. The database exists
     * there, so the init scripts are not run again (EmbeddedPostgres runs them only when it creates the database).
     */
    void startPostgresAgain() throws IOException, java.sql.SQLException {
        restartedPostgres = dev.streametl.embedded.EmbeddedPostgres.start(services.postgres().orElseThrow().port(),
                dataDir.resolve("postgres"), List.of(Path.of("sql/create_table.sql"), Path.of("sql/input_data.sql")));
    }

    /**
     * Stops the Kafka broker (a controlled shutdown), as a restart of it would; {@link #startKafkaAgain()} brings it
     * back. The broker runs in this JVM: a pipeline meant to live through this must run as a process ({@link #startApp}).
     */
    void stopKafka() {
        (restartedKafka != null ? restartedKafka : services.kafka().orElseThrow()).close();
    }

    /**
     * Starts a broker again on the same port and folder: the same cluster (its id is kept in the logs folder), topics,
     * records and committed offsets. Returns once clients can use it.
     */
    void startKafkaAgain() throws IOException {
        restartedKafka = dev.streametl.embedded.EmbeddedKafka.start(services.kafka().orElseThrow().port(),
                dataDir.resolve("kafka"));
    }

    /**
     * Ends Debezium's replication connection from the server side, as a network fault or a server-side timeout would:
     * terminates the walsender backend that streams the slot. Returns the pid it terminated, or -1 if none streamed.
     */
    int terminateReplicationConnection(String slotName) throws java.sql.SQLException {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             PreparedStatement terminate = db.prepareStatement("SELECT active_pid, pg_terminate_backend(active_pid)"
                     + " FROM pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL")) {
            terminate.setString(1, slotName);
            try (ResultSet result = terminate.executeQuery()) {
                return result.next() ? result.getInt(1) : -1;
            }
        }
    }

    /** The pid of the backend streaming a replication slot; -1 while nobody streams it. */
    int replicationPid(String slotName) throws java.sql.SQLException {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             PreparedStatement slot = db.prepareStatement(
                     "SELECT active_pid FROM pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL")) {
            slot.setString(1, slotName);
            try (ResultSet result = slot.executeQuery()) {
                return result.next() ? result.getInt(1) : -1;
            }
        }
    }
}
