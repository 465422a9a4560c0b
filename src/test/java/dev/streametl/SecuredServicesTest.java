package dev.streametl;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLHandshakeException;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The secured servers that {@link SecuredServices} starts really are secured: each refuses a client without TLS and a
 * client with a wrong password or key, and serves one that trusts only the test's CA and brings the right credentials.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecuredServicesTest {

    @TempDir
    static Path tempDir;

    SecuredServices secured;

    @BeforeAll
    void start() throws Exception {
        secured = SecuredServices.start(tempDir);
    }

    @AfterAll
    void stop() {
        if (secured != null) {
            secured.close();
        }
    }

    // --- certificates ---

    @Test
    void certificatesAreWrittenAsPemAndTheKeyIsItsOwnersAlone() throws Exception {
        Path certs = secured.dataDir().resolve("certs");
        assertEquals(secured.caCertificate(), certs.resolve("ca.crt"));
        assertTrue(Files.readString(certs.resolve("ca.crt")).startsWith("-----BEGIN CERTIFICATE-----"));
        assertTrue(Files.readString(certs.resolve("server.crt")).startsWith("-----BEGIN CERTIFICATE-----"));
        assertTrue(Files.readString(certs.resolve("server.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(certs.resolve("server.key")));
        assertFalse(Files.exists(secured.dataDir().resolve("postgres/initdb-password")), "the password file is removed");
    }

    // --- PostgreSQL ---

    @Test
    void postgresRefusesAConnectionWithoutTls() {
        SQLException refused = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://localhost:" + secured.postgresPort() + "/inventory?sslmode=disable",
                secured.postgresUser(), secured.postgresPassword()).close());
        assertEquals("28000", refused.getSQLState(), refused.getMessage()); // invalid_authorization_specification: pg_hba
        assertTrue(refused.getMessage().contains("no encryption"), refused.getMessage());
    }

    @Test
    void postgresRefusesAWrongPassword() {
        SQLException refused = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(secured.jdbcUrl(), secured.postgresUser(), "wrong-" + secured.postgresPassword()).close());
        assertEquals("28P01", refused.getSQLState(), refused.getMessage()); // invalid_password
    }

    @Test
    void postgresIsNotTrustedThroughAnotherCa() throws Exception {
        Path otherCa = TestCertificates.create(tempDir.resolve("other-ca")).caCertificate();
        SQLException refused = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://localhost:" + secured.postgresPort() + "/inventory?sslmode=verify-full&sslrootcert=" + otherCa,
                secured.postgresUser(), secured.postgresPassword()).close());
        assertTrue(causedBy(refused, SSLHandshakeException.class), refused.toString());
    }

    private static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (type.isInstance(cause)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void postgresServesTheSampleDataOverVerifiedTls() throws Exception {
        try (Connection db = secured.connect()) {
            assertTrue(SecuredServices.usesTls(db));
        }
        assertEquals(50, secured.sqlJoin().size());
    }

    @Test
    void postgresTakesAReplicationConnectionOverTlsAsDebeziumOpensIt() throws Exception {
        Properties replication = new Properties();
        replication.put("user", secured.postgresUser());
        replication.put("password", secured.postgresPassword());
        replication.put("replication", "database");
        replication.put("assumeMinServerVersion", "10");
        replication.put("preferQueryMode", "simple");
        try (Connection db = DriverManager.getConnection(secured.jdbcUrl(), replication);
             Statement sql = db.createStatement();
             ResultSet system = sql.executeQuery("IDENTIFY_SYSTEM")) {
            assertTrue(system.next());
        }
        try (Connection db = secured.connect(); Statement sql = db.createStatement();
             ResultSet walLevel = sql.executeQuery("SHOW wal_level")) {
            assertTrue(walLevel.next());
            assertEquals("logical", walLevel.getString(1));
        }
    }

    // --- Kafka ---

    @Test
    void kafkaRefusesAWrongSecret() {
        Properties config = secured.kafkaClientConfig();
        config.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + secured.kafkaApiKey() + "\" password=\"wrong-" + secured.kafkaApiSecret() + "\";");
        try (Admin admin = Admin.create(config)) {
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, refused.getCause());
        }
    }

    @Test
    void kafkaGivesAPlaintextClientNothing() {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, secured.kafkaBootstrapServers());
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        try (Admin admin = Admin.create(config)) {
            // the broker closes a connection that does not speak TLS: the client gets no answer, only its own time-out
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            assertInstanceOf(org.apache.kafka.common.errors.TimeoutException.class, refused.getCause());
        }
    }

    @Test
    void kafkaServesTheApiKeyOverTlsWithAnIdempotentProducer() throws Exception {
        try (Admin admin = secured.admin()) {
            admin.createTopics(List.of(new NewTopic("secured-check", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Properties producerConfig = secured.kafkaClientConfig();
        producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("secured-check", "k1", "{\"v\":1}")).get(30, TimeUnit.SECONDS);
        }
        List<ConsumerRecord<String, String>> records = secured.records("secured-check", Duration.ofSeconds(30));
        assertEquals(1, records.size());
        assertEquals("k1", records.get(0).key());
        assertEquals(Map.of("k1", RealServices.tree("{\"v\":1}")), secured.latest("secured-check"));
    }

    // --- Elasticsearch ---

    @Test
    void elasticsearchAnswers401WithoutCredentials() throws Exception {
        assertEquals(401, elasticsearchHealth(null).statusCode());
    }

    @Test
    void elasticsearchAnswers401ToAWrongApiKey() throws Exception {
        String id = new String(Base64.getDecoder().decode(secured.elasticsearchApiKey()), StandardCharsets.UTF_8).split(":")[0];
        String wrong = Base64.getEncoder().encodeToString((id + ":wrong-key-0123456789").getBytes(StandardCharsets.UTF_8));
        assertEquals(401, elasticsearchHealth("ApiKey " + wrong).statusCode());
    }

    @Test
    void elasticsearchServesTheApiKeyAndTheUserOverHttpsTrustingOnlyTheCa() throws Exception {
        assertEquals(200, elasticsearchHealth("ApiKey " + secured.elasticsearchApiKey()).statusCode());
        String basic = Base64.getEncoder().encodeToString((secured.elasticsearchUser() + ":" + secured.elasticsearchPassword())
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(200, elasticsearchHealth("Basic " + basic).statusCode());

        HttpResponse<String> indexed = secured.elasticsearch("PUT", "/secured-check/_doc/1", "{\"v\":1}");
        assertEquals(201, indexed.statusCode(), indexed.body());
        Map<String, JsonNode> documents = secured.documents("secured-check");
        assertEquals(Map.of("1", RealServices.tree("{\"v\":1}")), documents);
    }

    @Test
    void elasticsearchSpeaksHttpsOnlyWithTheTestCasCertificate() throws Exception {
        // the JDK's own trust store does not know the test CA
        HttpClient defaultTrust = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThrows(SSLHandshakeException.class, () -> defaultTrust.send(
                HttpRequest.newBuilder(URI.create(secured.elasticsearchUrl() + "/_cluster/health")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()));
        // and plain HTTP on the same port gets no answer
        assertThrows(java.io.IOException.class, () -> defaultTrust.send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + secured.elasticsearchPort() + "/_cluster/health"))
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()));
    }

    private HttpResponse<String> elasticsearchHealth(String authorization) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(secured.sslContext()).connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(secured.elasticsearchUrl() + "/_cluster/health"))
                .timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
