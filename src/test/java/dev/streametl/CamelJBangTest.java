package dev.streametl;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
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
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.ThrowingRunnable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's Camel JBang command, {@code bin/camel run application.properties routes/*.java ...}, in a process of its
 * own: as a user runs it, starting its own embedded servers (on free ports, its data in a folder of its own, set by the
 * README's environment variables), and pointed at servers started by the test (the variables of "External services").
 * Either way the sample orders and an order inserted afterwards must reach Elasticsearch enriched as the SQL join says;
 * {@code camel get route} must list the pipeline's routes, and stopping Camel JBang must stop the servers it started.
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
    void theReadmeCommandStartsItsOwnServersAndEnrichesOrders() throws Exception {
        // as root, Elasticsearch runs as nobody, who must be able to traverse the (0700) temp dir
        Files.setPosixFilePermissions(tempDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        int postgresPort = RealServices.freePort();
        int kafkaPort = RealServices.freePort();
        int elasticsearchPort = RealServices.freePort();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ETL_DATA_DIR", tempDir.resolve("data").toString());
        env.put("ETL_POSTGRES_PORT", String.valueOf(postgresPort));
        env.put("ETL_KAFKA_BROKERS", "localhost:" + kafkaPort);
        env.put("ETL_ELASTICSEARCH_URL", "http://localhost:" + elasticsearchPort);
        env.put("ETL_MANAGEMENT_PORT", String.valueOf(managementPort));
        jbang = camel(List.of("run", "application.properties"), sources(), env); // ETL_EMBEDDED_ENABLED unset: on

        String postgres = "jdbc:postgresql://localhost:" + postgresPort + "/inventory";
        String elasticsearch = "http://localhost:" + elasticsearchPort;
        // the first run downloads Camel JBang's own dependencies, then it compiles the sources and starts the servers
        awaitOrFail(Duration.ofMinutes(5), () -> {
            Map<String, JsonNode> sample = RealServices.sqlJoinAt(postgres);
            assertEquals(50, sample.size());
            assertEquals(sample, RealServices.documentsAt(elasticsearch, "enriched_orders"));
        });

        try (var db = java.sql.DriverManager.getConnection(postgres, "postgres", "postgres");
             var sql = db.createStatement()) {
            sql.execute("INSERT INTO customers VALUES (13, 'Ada Quinn', 37, 'standard')");
            sql.execute("INSERT INTO orders VALUES (60, 13, 512.00, 'BAG-04')");
        }
        Map<String, JsonNode> expected = RealServices.sqlJoinAt(postgres);
        assertEquals("Ada Quinn", expected.get("60").get("customer_name").asText());
        awaitOrFail(Duration.ofSeconds(30),
                () -> assertEquals(expected, RealServices.documentsAt(elasticsearch, "enriched_orders")));

        // Ctrl-C (SIGTERM) stops the pipeline and every server it started
        stopCamelJBang();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            for (int port : List.of(postgresPort, kafkaPort, elasticsearchPort)) {
                assertTrue(nothingListensOn(port), "port " + port + " is free once Camel JBang has stopped");
            }
        });
    }

    @Test
    void theRoutesRunUnderCamelJBangOnExternalServers() throws Exception {
        real = RealServices.start(tempDir);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ETL_EMBEDDED_ENABLED", "false");
        env.put("ETL_DATA_DIR", real.dataDir.toString());
        env.put("ETL_POSTGRES_PORT", String.valueOf(real.services.postgres().orElseThrow().port()));
        env.put("ETL_KAFKA_BROKERS", real.kafka);
        env.put("ETL_ELASTICSEARCH_URL", real.elasticsearch);
        env.put("ETL_MANAGEMENT_PORT", String.valueOf(managementPort));
        jbang = camel(List.of("run", "application.properties"), sources(), env);

        Map<String, JsonNode> sample = real.sqlJoin();
        assertEquals(50, sample.size());
        // the first run downloads Camel JBang's own dependencies, then it compiles the sources
        awaitOrFail(Duration.ofMinutes(5), () -> assertEquals(sample, real.documents("enriched_orders")));

        real.sql("INSERT INTO customers VALUES (13, 'Ada Quinn', 37, 'standard')",
                "INSERT INTO orders VALUES (60, 13, 512.00, 'BAG-04')");
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals("Ada Quinn", expected.get("60").get("customer_name").asText());
        awaitOrFail(Duration.ofSeconds(30), () -> assertEquals(expected, real.documents("enriched_orders")));

        String routes = output(camel(List.of("get", "route"), List.of(), Map.of()));
        for (String route : List.of("capture-changes", "customer-table", "order-enrichment", "enrich-order",
                "load-enriched-orders", "product-sales")) {
            assertTrue(routes.contains(route), route + " in `camel get route`:\n" + routes);
        }
    }

    @Test
    void beyondLocalhostWithoutAPasswordCamelJBangRefusesToStart() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("ETL_EMBEDDED_ENABLED", "false");
        env.put("ETL_DATA_DIR", tempDir.resolve("data").toString());
        env.put("ETL_KAFKA_BROKERS", "localhost:" + RealServices.freePort()); // nothing there: it must not get that far
        env.put("ETL_MANAGEMENT_HOST", "0.0.0.0");
        env.put("ETL_MANAGEMENT_PORT", String.valueOf(managementPort));
        jbang = camel(List.of("run", "application.properties"), sources(), env);

        assertTrue(jbang.waitFor(5, TimeUnit.MINUTES), "Camel JBang stops by itself");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        String end = output.substring(Math.max(0, output.length() - 6000));
        assertTrue(output.contains("The management server (health, metrics, dev console, Jolokia) would listen on 0.0.0.0"
                + " without credentials. Set etl.management.password"), "the rule's message in its log, which ends:\n" + end);
        assertFalse(output.contains("Started customer-table"), "no route started:\n" + end);
        assertTrue(nothingListensOn(managementPort), "the management server is gone");
    }

    /**
     * The sources the README names ({@code routes/*.java src/main/java/dev/streametl/*}{@code /*.java
     * src/dev/java/dev/streametl/*}{@code /*.java}).
     */
    static List<String> sources() throws IOException {
        List<String> sources = new ArrayList<>();
        List<String> dirs = new ArrayList<>(List.of("routes"));
        for (String root : List.of("src/main/java/dev/streametl", "src/dev/java/dev/streametl")) {
            try (Stream<Path> packages = Files.list(PROJECT.resolve(root))) {
                packages.filter(Files::isDirectory).map(dir -> root + "/" + dir.getFileName()).sorted()
                        .forEach(dirs::add);
            }
        }
        for (String dir : dirs) {
            try (Stream<Path> files = Files.list(PROJECT.resolve(dir))) {
                files.map(file -> dir + "/" + file.getFileName()).filter(name -> name.endsWith(".java")).sorted()
                        .forEach(sources::add);
            }
        }
        return sources;
    }

    /** {@code bin/camel} with these arguments and environment variables; its output goes to a log file. */
    private Process camel(List<String> command, List<String> files, Map<String, String> env) throws IOException {
        List<String> arguments = new ArrayList<>(List.of(PROJECT.resolve("bin/camel").toString()));
        arguments.addAll(command);
        arguments.addAll(files);
        ProcessBuilder builder = new ProcessBuilder(arguments).directory(PROJECT.toFile()).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().putAll(env);
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

    /**
     * Awaits the assertion (an exception counts as not yet: the servers may still be starting); on timeout fails with
     * the end of Camel JBang's log, which says why.
     */
    private void awaitOrFail(Duration atMost, ThrowingRunnable assertion) throws IOException {
        try {
            await().atMost(atMost).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(assertion);
        } catch (ConditionTimeoutException e) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            fail(e.getMessage() + "\nCamel JBang " + (jbang.isAlive() ? "runs" : "exited " + jbang.exitValue())
                 + "; its log ends with:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())),
                    e.getCause());
        }
    }

    private static boolean nothingListensOn(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (IOException refused) {
            return true;
        }
    }

    /** SIGTERM, as Ctrl-C: Camel stops its routes, then the servers it started. */
    private void stopCamelJBang() throws InterruptedException {
        if (jbang != null) {
            jbang.destroy();
            if (!jbang.waitFor(60, TimeUnit.SECONDS)) {
                jbang.destroyForcibly();
                fail("Camel JBang did not stop within 60 s of SIGTERM");
            }
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        try {
            RealServices.stop(jbang);
        } finally {
            if (real != null) {
                real.close();
            }
        }
    }
}
