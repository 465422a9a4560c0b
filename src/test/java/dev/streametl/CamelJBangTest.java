package dev.streametl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's Camel JBang command, {@code bin/camel run application.properties routes/*.java ...}, in a process of its
 * own, on real servers started by the test on free ports (passed as the README's environment variables): the sample
 * orders and an order inserted afterwards must reach Elasticsearch enriched as the SQL join says, and
 * {@code camel get route} must list the pipeline's routes.
 */
class CamelJBangTest {

    static final Path PROJECT = Path.of("").toAbsolutePath();

    @TempDir
    Path tempDir;

    final int managementPort = RealServices.freePort();
    RealServices real;
    Process jbang;
    Path log;

    @Test
    void theRoutesRunUnderCamelJBang() throws Exception {
        real = RealServices.start(tempDir);
        jbang = camel(List.of("run", "application.properties"), sources());

        Map<String, JsonNode> sample = real.sqlJoin();
        assertEquals(50, sample.size());
        // the first run downloads Camel JBang's own dependencies, then it compiles the sources
        awaitOrFail(Duration.ofMinutes(5), () -> assertEquals(sample, real.documents("enriched_orders")));

        real.sql("INSERT INTO customers VALUES (13, 'Ada Quinn', 37, 'standard')",
                "INSERT INTO orders VALUES (60, 13, 512.00, 'BAG-04')");
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals("Ada Quinn", expected.get("60").get("customer_name").asText());
        awaitOrFail(Duration.ofSeconds(30), () -> assertEquals(expected, real.documents("enriched_orders")));

        String routes = output(camel(List.of("get", "route"), List.of()));
        for (String route : List.of("capture-changes", "customer-table", "order-enrichment", "enrich-order",
                "load-enriched-orders", "product-sales")) {
            assertTrue(routes.contains(route), route + " in `camel get route`:\n" + routes);
        }
    }

    /** The sources the README names ({@code routes/*.java src/main/java/dev/streametl/*}{@code /*.java}). */
    static List<String> sources() throws IOException {
        List<String> sources = new ArrayList<>();
        List<String> dirs = new ArrayList<>(List.of("routes"));
        try (Stream<Path> packages = Files.list(PROJECT.resolve("src/main/java/dev/streametl"))) {
            packages.filter(Files::isDirectory).map(dir -> "src/main/java/dev/streametl/" + dir.getFileName()).sorted()
                    .forEach(dirs::add);
        }
        for (String dir : dirs) {
            try (Stream<Path> files = Files.list(PROJECT.resolve(dir))) {
                files.map(file -> dir + "/" + file.getFileName()).filter(name -> name.endsWith(".java")).sorted()
                        .forEach(sources::add);
            }
        }
        return sources;
    }

    /** {@code bin/camel} with these arguments, pointed at the test's servers; its output goes to a log file. */
    private Process camel(List<String> command, List<String> files) throws IOException {
        List<String> arguments = new ArrayList<>(List.of(PROJECT.resolve("bin/camel").toString()));
        arguments.addAll(command);
        arguments.addAll(files);
        ProcessBuilder builder = new ProcessBuilder(arguments).directory(PROJECT.toFile()).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("ETL_EMBEDDED_ENABLED", "false");
        env.put("ETL_DATA_DIR", real.dataDir.toString());
        env.put("ETL_POSTGRES_PORT", String.valueOf(real.services.postgres().orElseThrow().port()));
        env.put("ETL_KAFKA_BROKERS", real.kafka);
        env.put("ETL_ELASTICSEARCH_PORT", String.valueOf(real.services.elasticsearch().orElseThrow().port()));
        env.put("ETL_MANAGEMENT_PORT", String.valueOf(managementPort));
        Path output = tempDir.resolve("camel-" + command.get(0) + ".log");
        if (log == null) {
            log = output;
        }
        return builder.redirectOutput(output.toFile()).start();
    }

    private String output(Process command) throws Exception {
        assertTrue(command.waitFor(2, TimeUnit.MINUTES), "the camel command ended");
        return Files.readString(tempDir.resolve("camel-get.log"), StandardCharsets.UTF_8);
    }

    /** Awaits the assertion; on timeout fails with the end of Camel JBang's log, which says why. */
    private void awaitOrFail(Duration atMost, ThrowingRunnable assertion) throws IOException {
        try {
            await().atMost(atMost).pollInterval(Duration.ofSeconds(1)).untilAsserted(assertion);
        } catch (ConditionTimeoutException e) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            fail(e.getMessage() + "\nCamel JBang " + (jbang.isAlive() ? "runs" : "exited " + jbang.exitValue())
                 + "; its log ends with:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())));
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (jbang != null) {
            jbang.destroy(); // SIGTERM: Camel stops its routes
            if (!jbang.waitFor(60, TimeUnit.SECONDS)) {
                jbang.destroyForcibly();
            }
        }
        if (real != null) {
            real.close();
        }
    }
}
