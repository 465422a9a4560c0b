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
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
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
 * The pipeline on secured servers, as it would run against Confluent Cloud, Elastic Cloud and a PostgreSQL that wants
 * TLS: Kafka with a SASL_SSL listener and an API-key-like user, Elasticsearch with x-pack security, HTTPS and an API key
 * made at test start, PostgreSQL with ssl=on and TLS-only password logins, every certificate made at test time. The
 * pipeline runs as a process of its own, configured the way a user would: secrets in environment variables and a
 * file, never on its command line. It must run end to end, and write no secret to its log, its system properties or
 * Jolokia; a wrong Kafka secret or Elasticsearch key must be named in one line, and in health.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecuredPipelineTest {

    @TempDir
    static Path tempDir;

    SecuredServices secured;
    Path kafkaSecretFile;
    Process app;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void startSecuredServers() throws Exception {
        Files.setPosixFilePermissions(tempDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        secured = SecuredServices.start(Files.createDirectories(tempDir.resolve("servers")));
        kafkaSecretFile = tempDir.resolve("kafka-api-secret");
        Files.writeString(kafkaSecretFile, secured.kafkaApiSecret() + "\n");
        Files.setPosixFilePermissions(kafkaSecretFile, PosixFilePermissions.fromString("rw-------"));
    }

    @AfterEach
    void stopApp() throws InterruptedException {
        if (app != null && app.isAlive()) {
            app.destroy(); // SIGTERM: a clean stop
            if (!app.waitFor(60, TimeUnit.SECONDS)) {
                app.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @AfterAll
    void stopServers() {
        if (secured != null) {
            secured.close();
        }
    }

    @Test
    @Order(1)
    void runsEndToEndOnSecuredServicesAndNeverShowsASecret() throws Exception {
        int managementPort = RealServices.freePort();
        Path log = tempDir.resolve("app-secured.log");
        app = startApp(environment(managementPort, secured.elasticsearchApiKey()), log);

        // the sample data, captured over TLS, joined, indexed over HTTPS with the API key and sent over SASL_SSL
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> !app.isAlive() || secured.documents("enriched_orders").equals(secured.sqlJoin()));
        assertTrue(app.isAlive(), () -> "the pipeline stopped: " + tail(log));
        RealServices.assertSameOrders(secured.sqlJoin(), secured.documents("enriched_orders"));

        // and a new order, live
        secured.sql("INSERT INTO orders VALUES (9001, 2, 512.50, 'TEE-SEC')");
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> secured.documents("enriched_orders").containsKey("9001"));
        Map<String, JsonNode> join = secured.sqlJoin();
        RealServices.assertSameOrders(join, secured.documents("enriched_orders"));
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> RealServices.assertSameOrders(join, RealServices.latest(secured.records("enriched_orders"))));

        // health UP: every check connects as the pipeline does
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> get(managementPort, "/observe/health").statusCode() == 200);

        // no secret anywhere a user or an operator looks
        List<String> secrets = secrets();
        String jolokia = get(managementPort, "/observe/jolokia/read/java.lang:type=Runtime").body()
                         + get(managementPort, "/observe/jolokia/read/org.apache.camel:type=components,*").body()
                         + get(managementPort, "/observe/jolokia/read/org.apache.camel:type=endpoints,*").body();
        String console = get(managementPort, "/q/dev/properties").body() + get(managementPort, "/q/dev/route").body();
        assertTrue(jolokia.contains("SystemProperties"), "Jolokia answered: " + jolokia.substring(0, Math.min(300, jolokia.length())));
        String appLog = Files.readString(log);
        assertTrue(appLog.contains("Kafka: KafkaSecurity[SASL_SSL, PLAIN, key " + secured.kafkaApiKey()), "the log names the Kafka key");
        for (String secret : secrets) {
            assertFalse(appLog.contains(secret), "a secret is in the pipeline's log");
            assertFalse(jolokia.contains(secret), "a secret is shown by Jolokia");
            assertFalse(console.contains(secret), "a secret is shown by the developer console");
            assertFalse(app.info().commandLine().orElse("").contains(secret), "a secret is on the command line");
        }
    }

    @Test
    @Order(2)
    void aWrongKafkaSecretIsNamedInOneLineAndTheStartFails() throws Exception {
        Path log = tempDir.resolve("app-wrong-kafka-secret.log");
        Map<String, String> environment = environment(RealServices.freePort(), secured.elasticsearchApiKey());
        environment.remove("ETL_KAFKA_API_SECRET_FILE");
        environment.put("ETL_KAFKA_API_SECRET", "not-the-secret");
        app = startApp(environment, log);

        assertTrue(app.waitFor(3, TimeUnit.MINUTES), () -> "still running with a wrong Kafka secret: " + tail(log));
        assertTrue(app.exitValue() != 0, "exit code " + app.exitValue());
        String appLog = Files.readString(log);
        String named = "Kafka at " + secured.kafkaBootstrapServers() + " refused the pipeline's credentials"
                       + " (etl.kafka.api-key / api-secret)";
        assertTrue(appLog.contains(named), () -> "no line saying '" + named + "': " + tail(log));
        assertFalse(appLog.contains("not-the-secret"), "the wrong secret is in the log");
        for (String secret : secrets()) {
            assertFalse(appLog.contains(secret), "a secret is in the pipeline's log");
        }
    }

    @Test
    @Order(3)
    void aWrongElasticsearchKeyIsNamedInHealthAndInTheLog() throws Exception {
        Path log = tempDir.resolve("app-wrong-elasticsearch-key.log");
        int managementPort = RealServices.freePort();
        String wrongKey = java.util.Base64.getEncoder().encodeToString("wrong-id:wrong-secret".getBytes(StandardCharsets.UTF_8));
        Map<String, String> environment = environment(managementPort, wrongKey);
        app = startApp(environment, log, "-Detl.elasticsearch.index-templates=none");

        String named = "elasticsearch: Elasticsearch at " + secured.elasticsearchUrl() + " with an API key refused the"
                       + " pipeline's credentials: HTTP 401";
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (app.isAlive() && !health(managementPort).contains(named) && System.nanoTime() < deadline) {
            Thread.sleep(1000);
        }
        assertTrue(app.isAlive(), () -> "the pipeline stopped: " + tail(log));
        assertTrue(health(managementPort).contains(named), () -> "health says: " + health(managementPort) + "\nlog: " + tail(log));
        HttpResponse<String> health = get(managementPort, "/observe/health");
        assertEquals(503, health.statusCode(), health.body());
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> Files.readString(log).contains("Health DOWN: " + named));
        String appLog = Files.readString(log);
        assertFalse(appLog.contains(wrongKey), "the wrong key is in the log");
        for (String secret : secrets()) {
            assertFalse(appLog.contains(secret), "a secret is in the pipeline's log");
        }
    }

    /** The settings of a user's run on these servers: addresses and secrets in the environment, as the README says. */
    private Map<String, String> environment(int managementPort, String elasticsearchApiKey) {
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("ETL_EMBEDDED_ENABLED", "false");
        environment.put("ETL_DATA_DIR", tempDir.resolve("app").toString());
        environment.put("ETL_MANAGEMENT_PORT", String.valueOf(managementPort));
        environment.put("ETL_POSTGRES_HOST", "localhost");
        environment.put("ETL_POSTGRES_PORT", String.valueOf(secured.postgresPort()));
        environment.put("ETL_POSTGRES_USER", secured.postgresUser());
        environment.put("ETL_POSTGRES_PASSWORD", secured.postgresPassword());
        environment.put("ETL_POSTGRES_SSLMODE", "verify-full");
        environment.put("ETL_POSTGRES_SSLROOTCERT", secured.caCertificate().toString());
        environment.put("ETL_KAFKA_BROKERS", secured.kafkaBootstrapServers());
        environment.put("ETL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL");
        environment.put("ETL_KAFKA_API_KEY", secured.kafkaApiKey());
        environment.put("ETL_KAFKA_API_SECRET_FILE", kafkaSecretFile.toString());
        environment.put("ETL_KAFKA_TRUSTSTORE", secured.caCertificate().toString());
        environment.put("ETL_ELASTICSEARCH_URL", secured.elasticsearchUrl());
        environment.put("ETL_ELASTICSEARCH_API_KEY", elasticsearchApiKey);
        environment.put("ETL_ELASTICSEARCH_CA_CERTIFICATE", secured.caCertificate().toString());
        return environment;
    }

    /** The pipeline's main class in a JVM of its own, on the classpath of a plain run, logging to {@code log}. */
    private Process startApp(Map<String, String> environment, Path log, String... systemProperties) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", RealServices.runtimeClasspath()));
        command.addAll(List.of(systemProperties));
        command.add(App.class.getName());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        return builder.start();
    }

    /** Every secret of these servers, in every form a leak could take. */
    private List<String> secrets() {
        String apiKey = secured.elasticsearchApiKey();
        String decoded = new String(java.util.Base64.getDecoder().decode(apiKey), StandardCharsets.UTF_8);
        return List.of(secured.kafkaApiSecret(), secured.postgresPassword(), apiKey,
                decoded.substring(decoded.indexOf(':') + 1), secured.elasticsearchPassword());
    }

    /** The messages of the health checks, one per line (Camel's health JSON writes "/" as "\\/" inside its strings). */
    private String health(int managementPort) {
        try {
            StringBuilder messages = new StringBuilder();
            RealServices.tree(get(managementPort, "/observe/health").body()).findValues("message")
                    .forEach(message -> messages.append(message.asText().replace("\\/", "/")).append('\n'));
            return messages.toString();
        } catch (IOException | InterruptedException | RuntimeException e) {
            return ""; // not serving yet
        }
    }

    private HttpResponse<String> get(int managementPort, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + managementPort + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
