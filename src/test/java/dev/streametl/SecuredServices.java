package dev.streametl;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.embedded.EmbeddedElasticsearch;
import dev.streametl.embedded.EmbeddedKafka;
import dev.streametl.embedded.EmbeddedServices;
import dev.streametl.embedded.PostgresBinaries;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.Order;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real PostgreSQL, Kafka and Elasticsearch with security on, for a test class: TLS everywhere with a CA and server
 * certificate made at test time (dataDir/certs), a random password or secret for each, started on 127.0.0.1 and free
 * ports, the database loaded with the sample data. What a pipeline needs to reach them, and what a test needs to check
 * results on them.
 *
 * <ul>
 * <li>PostgreSQL 17: {@code ssl=on}; pg_hba lets user postgres in over TLS only, with scram-sha-256, to every
 *     database and to replication (Debezium); any connection without TLS is rejected, and so is the Unix socket.</li>
 * <li>Kafka 4.1 (in this JVM): one listener for clients, SASL_SSL with PLAIN and one user (an API key and its
 *     secret); the controller listener stays PLAINTEXT on 127.0.0.1.</li>
 * <li>Elasticsearch 9: security on, HTTPS only; the superuser elastic with a random password, and an API key made
 *     with it at start (which needs a small plugin here: {@link SecurityIndexAnalysis}).</li>
 * </ul>
 *
 * <p>No secret is logged, nor passed on a command line: PostgreSQL gets its password through initdb's password file
 * (deleted once the server runs), Elasticsearch through its key store tool's standard input, Kafka in its
 * server.properties (readable by its owner only).
 */
public final class SecuredServices implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SecuredServices.class);
    private static final String HOST = "localhost";
    private static final String DATABASE = dev.streametl.embedded.EmbeddedPostgres.DATABASE;
    private static final String POSTGRES_USER = "postgres";
    private static final String KAFKA_API_KEY = "etl-api-key";
    private static final List<Path> INIT_SCRIPTS = List.of(Path.of("sql/create_table.sql"), Path.of("sql/input_data.sql"));
    private static final Duration POSTGRES_STARTUP_WAIT = Duration.ofSeconds(30);

    private final Path dataDir;
    private final TestCertificates certificates;
    private final SSLContext sslContext;
    private final String postgresPassword;
    private final String kafkaSecret;
    private final String elasticsearchPassword;
    /** In start order; closed in reverse. */
    private final List<AutoCloseable> started = new ArrayList<>();
    private final HttpClient http;

    private EmbeddedPostgres postgres;
    private EmbeddedKafka kafka;
    private EmbeddedElasticsearch elasticsearch;
    private String elasticsearchApiKey;

    private SecuredServices(Path dataDir, TestCertificates certificates) throws Exception {
        this.dataDir = dataDir;
        this.certificates = certificates;
        this.sslContext = certificates.trustingOnlyTheCa();
        this.http = HttpClient.newBuilder().sslContext(sslContext).connectTimeout(Duration.ofSeconds(5)).build();
        this.postgresPassword = TestCertificates.secret();
        this.kafkaSecret = TestCertificates.secret();
        this.elasticsearchPassword = TestCertificates.secret();
    }

    /**
     * Makes the certificates, starts the three servers (Elasticsearch, the slowest, meanwhile the other two), loads
     * the sample data and makes the Elasticsearch API key; returns once all are ready. On a failure none is left
     * running.
     */
    public static SecuredServices start(Path dataDir) throws Exception {
        long startNanos = System.nanoTime();
        Path dir = dataDir.toAbsolutePath().normalize();
        // Elasticsearch runs as 'nobody' when the tests run as root: it must be able to enter the folder
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        SecuredServices services = new SecuredServices(dir, TestCertificates.create(dir.resolve("certs")));
        try {
            Path elasticsearchHome = SecurityIndexAnalysis.homeWithPlugin(RealServices.ELASTICSEARCH_HOME, dir.resolve("elasticsearch-home"));
            CompletableFuture<EmbeddedElasticsearch> elasticsearch = CompletableFuture.supplyAsync(() -> {
                try {
                    return EmbeddedElasticsearch.start(0, dir.resolve("elasticsearch"), elasticsearchHome,
                            EmbeddedElasticsearch.DEFAULT_HEAP_MB, services.elasticsearchSecurity());
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            });
            try {
                services.startPostgres();
                services.startKafka();
            } finally {
                // waited for even when the others failed: a server still starting would be left running
                services.elasticsearch = awaitQuietly(elasticsearch, services.started);
            }
            if (services.elasticsearch == null) {
                elasticsearch.join(); // throws its failure
            }
            services.elasticsearchApiKey = services.createElasticsearchApiKey();
        } catch (Exception | Error e) {
            services.close();
            throw e;
        }
        LOG.info("Secured PostgreSQL on port {}, Kafka on {}, Elasticsearch on {} started in {} ms", services.postgresPort(),
                services.kafkaBootstrapServers(), services.elasticsearchUrl(), (System.nanoTime() - startNanos) / 1_000_000);
        return services;
    }

    private static EmbeddedElasticsearch awaitQuietly(CompletableFuture<EmbeddedElasticsearch> start, List<AutoCloseable> started) {
        try {
            EmbeddedElasticsearch elasticsearch = start.join();
            started.add(elasticsearch);
            return elasticsearch;
        } catch (CompletionException e) {
            return null;
        }
    }

    // --- what a pipeline needs ---

    public Path dataDir() {
        return dataDir;
    }

    /** The CA certificate, PEM: the one certificate a client must trust for all three servers. */
    public Path caCertificate() {
        return certificates.caCertificate();
    }

    /** A TLS context that trusts the CA alone (not the JDK's public CAs). */
    public SSLContext sslContext() {
        return sslContext;
    }

    /** "localhost": the name the certificate carries (so is 127.0.0.1). */
    public String host() {
        return HOST;
    }

    public int postgresPort() {
        return postgres.getPort();
    }

    public String postgresDatabase() {
        return DATABASE;
    }

    public String postgresUser() {
        return POSTGRES_USER;
    }

    public String postgresPassword() {
        return postgresPassword;
    }

    /** The JDBC URL of the sample database: TLS, the server's certificate checked against the CA and the host name. */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    String jdbcUrl(String database) {
        return "jdbc:postgresql://" + HOST + ":" + postgresPort() + "/" + database + "?sslmode=verify-full&sslrootcert="
               + caCertificate();
    }

    public String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The SASL PLAIN user name. */
    public String kafkaApiKey() {
        return KAFKA_API_KEY;
    }

    /** The SASL PLAIN password. */
    public String kafkaApiSecret() {
        return kafkaSecret;
    }

    /**
     * A Kafka client's settings for these servers: bootstrap.servers, security.protocol SASL_SSL, sasl.mechanism PLAIN
     * with its JAAS line, and the CA as a PEM trust store. Add serializers, group id, etc.
     */
    public Properties kafkaClientConfig() {
        Properties config = new Properties();
        config.put("bootstrap.servers", kafkaBootstrapServers());
        config.putAll(kafkaSecurity().clientConfig());
        return config;
    }

    /** https://localhost:PORT */
    public String elasticsearchUrl() {
        return elasticsearch.url();
    }

    public int elasticsearchPort() {
        return elasticsearch.port();
    }

    public String elasticsearchUser() {
        return EmbeddedElasticsearch.Security.SUPERUSER;
    }

    public String elasticsearchPassword() {
        return elasticsearchPassword;
    }

    /** The API key made at start, encoded: the value of the header {@code Authorization: ApiKey <this>}. */
    public String elasticsearchApiKey() {
        return elasticsearchApiKey;
    }

    // --- what a test needs to check results ---

    public void sql(String... statements) throws SQLException {
        try (Connection db = connect(); Statement sql = db.createStatement()) {
            for (String statement : statements) {
                sql.execute(statement);
            }
        }
    }

    /** A connection to the sample database, as {@link #jdbcUrl()}; the caller closes it. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), POSTGRES_USER, postgresPassword);
    }

    /** The enriched orders as PostgreSQL itself joins them, by order id (what RealServices.sqlJoin gives, over TLS). */
    public Map<String, JsonNode> sqlJoin() throws SQLException {
        Map<String, JsonNode> rows = new TreeMap<>();
        try (Connection db = connect(); Statement sql = db.createStatement(); ResultSet join = sql.executeQuery(RealServices.JOIN)) {
            while (join.next()) {
                Order order = new Order(join.getInt("order_id"), join.getInt("customer_id"), join.getBigDecimal("price"),
                        join.getString("product_code"));
                Customer customer = new Customer(order.customerId(), join.getString("name"),
                        (Integer) join.getObject("age"), join.getString("membership"));
                rows.put(String.valueOf(order.orderId()), RealServices.tree(Json.write(EnrichedOrder.of(order, customer, 0))));
            }
        }
        return rows;
    }

    /** The documents of an index, by id (none if the index does not exist), all of them: read by scroll, with the API key. */
    public Map<String, JsonNode> documents(String index) throws IOException, InterruptedException {
        elasticsearch("POST", "/" + index + "/_refresh", null);
        Map<String, JsonNode> documents = new TreeMap<>();
        HttpResponse<String> response = elasticsearch("GET", "/" + index + "/_search?scroll=1m&size=5000&sort=_doc", null);
        if (response.statusCode() != 200) {
            return documents;
        }
        JsonNode page = RealServices.tree(response.body());
        while (page.path("hits").path("hits").size() > 0) {
            for (JsonNode hit : page.path("hits").path("hits")) {
                documents.put(hit.get("_id").asText(), hit.get("_source"));
            }
            String scroll = "{\"scroll\":\"1m\",\"scroll_id\":\"" + page.path("_scroll_id").asText() + "\"}";
            page = RealServices.tree(elasticsearch("POST", "/_search/scroll", scroll).body());
        }
        if (page.hasNonNull("_scroll_id")) {
            elasticsearch("DELETE", "/_search/scroll/" + page.path("_scroll_id").asText(), null);
        }
        return documents;
    }

    /** One call to Elasticsearch with the API key over HTTPS; {@code json} null for none. */
    public HttpResponse<String> elasticsearch(String method, String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(elasticsearchUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "ApiKey " + elasticsearchApiKey)
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An admin client of this Kafka; the caller closes it. */
    public Admin admin() {
        return Admin.create(kafkaClientConfig());
    }

    /** Every record of a topic, partition after partition, read within two minutes (or the test fails, saying where). */
    public List<ConsumerRecord<String, String>> records(String topic) {
        return records(topic, Duration.ofMinutes(2));
    }

    /** {@link #records(String)} within a time limit. */
    public List<ConsumerRecord<String, String>> records(String topic, Duration atMost) {
        long deadline = System.nanoTime() + atMost.toNanos();
        Properties config = kafkaClientConfig();
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(atMost.toMillis()));
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    Map<String, Long> positions = new TreeMap<>();
                    partitions.forEach(p -> positions.put(p.toString(), consumer.position(p)));
                    throw new AssertionError(topic + " not read to its end within " + atMost + ": at " + positions + ", the end at " + end);
                }
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }

    /** The current value of every key of a topic: its latest record, a key whose latest is a tombstone left out. */
    public Map<String, JsonNode> latest(String topic) {
        return RealServices.latest(records(topic));
    }

    /** Stops Kafka, Elasticsearch and PostgreSQL, whichever started. */
    @Override
    public void close() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                LOG.warn("Could not stop {}", started.get(i), e);
            }
        }
        started.clear();
    }

    @Override
    public String toString() {
        return "SecuredServices[" + dataDir + "]";
    }

    // --- starting ---

    private EmbeddedKafka.SaslSsl kafkaSecurity() {
        return new EmbeddedKafka.SaslSsl(certificates.keyStore(), certificates.keyStorePassword(), caCertificate(),
                KAFKA_API_KEY, kafkaSecret);
    }

    private EmbeddedElasticsearch.Security elasticsearchSecurity() {
        return new EmbeddedElasticsearch.Security(certificates.certificate(), certificates.privateKey(), caCertificate(),
                elasticsearchPassword);
    }

    private void startKafka() throws IOException {
        kafka = EmbeddedKafka.start(0, dataDir.resolve("kafka"), kafkaSecurity());
        started.add(kafka);
    }

    /**
     * PostgreSQL through zonky's runner, as dev.streametl.embedded.EmbeddedPostgres starts it, with TLS and passwords:
     * initdb sets the password from a file, the server reads pg_hba from ours.
     */
    private void startPostgres() throws IOException, SQLException {
        Path dir = Files.createDirectories(dataDir.resolve("postgres"));
        Path passwordFile = dir.resolve("initdb-password");
        TestCertificates.writeOwnerOnly(passwordFile, postgresPassword.getBytes(StandardCharsets.UTF_8));
        Path hba = dir.resolve("pg_hba.conf");
        Files.writeString(hba, String.join("\n",
                "# written by " + SecuredServices.class.getName() + ": TLS and a password, or nothing",
                "# TYPE     DATABASE     USER      ADDRESS        METHOD",
                "hostssl    all          " + POSTGRES_USER + "  127.0.0.1/32   scram-sha-256",
                "hostssl    replication  " + POSTGRES_USER + "  127.0.0.1/32   scram-sha-256",
                "hostnossl  all          all       all            reject",
                "hostnossl  replication  all       all            reject",
                "local      all          all                      reject",
                "local      replication  all                      reject",
                ""), StandardCharsets.UTF_8);
        ProcessBuilder.Redirect log = ProcessBuilder.Redirect.appendTo(dir.resolve("postgres.log").toFile());
        try {
            postgres = EmbeddedPostgres.builder()
                    .setPort(EmbeddedServices.freePort())
                    .setPgBinaryResolver(new PostgresBinaries())
                    .setDataDirectory(dir.resolve("pgdata"))
                    .setCleanDataDirectory(false)
                    // initdb --pwfile: the superuser's password from a file, never on a command line
                    .setLocaleConfig("pwfile", passwordFile.toString())
                    .setLocaleConfig("auth", "scram-sha-256")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("hba_file", hba.toString())
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setServerConfig("ssl", "on")
                    // the key is the server's own (we run it, as root here): mode 0600, as PostgreSQL demands
                    .setServerConfig("ssl_cert_file", certificates.certificate().toString())
                    .setServerConfig("ssl_key_file", certificates.privateKey().toString())
                    .setServerConfig("ssl_min_protocol_version", "TLSv1.2")
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_replication_slots", "10")
                    .setServerConfig("max_wal_senders", "10")
                    .setServerConfig("synchronous_commit", "on")
                    // zonky's own readiness check connects too: over TLS, with the password
                    .setConnectConfig("password", postgresPassword)
                    .setConnectConfig("sslmode", "verify-full")
                    .setConnectConfig("sslrootcert", caCertificate().toString())
                    .setPGStartupWait(POSTGRES_STARTUP_WAIT)
                    .setOutputRedirector(log)
                    .setErrorRedirector(log)
                    .start();
        } finally {
            Files.deleteIfExists(passwordFile);
        }
        started.add(postgres);
        try (Connection admin = DriverManager.getConnection(jdbcUrl("postgres"), POSTGRES_USER, postgresPassword);
             Statement statement = admin.createStatement()) {
            statement.execute("CREATE DATABASE " + DATABASE);
        }
        try (Connection db = connect(); Statement statement = db.createStatement()) {
            for (Path script : INIT_SCRIPTS) {
                statement.execute(Files.readString(script));
            }
        }
    }

    /** POST /_security/api_key as the superuser: a key with the superuser's rights, no expiry. */
    private String createElasticsearchApiKey() throws IOException, InterruptedException {
        String basic = Base64.getEncoder().encodeToString((elasticsearchUser() + ":" + elasticsearchPassword)
                .getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(elasticsearchUrl() + "/_security/api_key"))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"etl-tests\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            // the body names the error; it holds no key when the call failed
            throw new IllegalStateException("Creating an Elasticsearch API key failed: " + response.statusCode() + " " + response.body());
        }
        return RealServices.tree(response.body()).path("encoded").asText();
    }

    /** True when this connection to the database runs over TLS, as PostgreSQL sees it. */
    static boolean usesTls(Connection db) throws SQLException {
        try (PreparedStatement query = db.prepareStatement("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
             ResultSet row = query.executeQuery()) {
            return row.next() && row.getBoolean(1);
        }
    }
}
