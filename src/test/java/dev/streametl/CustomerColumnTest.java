package dev.streametl;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

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
 * The README's "Adapt it to your tables": {@code customers.email} carried into Elasticsearch as {@code customer_email} by
 * the two edits it shows, to {@code Customer.java} and to the {@code enriched_orders} mapping, and nothing else. The test
 * makes those edits on copies of the two files, compiles the copy of {@code Customer.java}, and runs the pipeline as a
 * process with the two copies ahead of the project's classes, on real servers where it has added the column. The sample
 * orders, a new customer's order, and (in {@code current} mode) the orders of a customer whose email changes must show
 * the email, and the index must map it as a keyword.
 */
class CustomerColumnTest {

    static final Path CUSTOMER = Path.of("src/main/java/dev/streametl/pipeline/Customer.java");
    static final Path MAPPING = Path.of("src/main/resources/elasticsearch/enriched_orders.json");

    @TempDir
    Path tempDir;

    RealServices real;
    Process app;
    Path log;

    @Test
    void anEmailColumnReachesTheIndexByTwoEdits() throws Exception {
        Path classes = Files.createDirectories(tempDir.resolve("classes"));
        compileEditedCustomer(classes);
        Path mapping = Files.createDirectories(classes.resolve("elasticsearch")).resolve("enriched_orders.json");
        Files.writeString(mapping, edit(Files.readString(MAPPING),
                "        \"customer_membership\": { \"type\": \"keyword\" }\n",
                "        \"customer_membership\": { \"type\": \"keyword\" },\n"
                + "        \"customer_email\":      { \"type\": \"keyword\" }\n"));

        Path servers = Files.createDirectories(tempDir.resolve("servers"));
        Files.setPosixFilePermissions(tempDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        real = RealServices.start(servers);
        real.sql("ALTER TABLE customers ADD COLUMN email varchar(255)",
                "UPDATE customers SET email = 'amelia@example.org' WHERE id = 1");
        app = startApp(classes, Map.of("etl.enrich.customer-updates", "current"));

        awaitOrFail(Duration.ofMinutes(3), () -> {
            Map<String, JsonNode> orders = real.documents("enriched_orders");
            assertEquals(50, orders.size());
            assertEquals(List.of("amelia@example.org"), emailsOf(orders, 1));
            assertEquals(List.of("null"), emailsOf(orders, 2));
        });
        assertEquals("keyword", real.elasticsearchGet("/enriched_orders/_mapping").path("enriched_orders")
                .path("mappings").path("properties").path("customer_email").path("type").asText());

        real.sql("INSERT INTO customers VALUES (13, 'Ada Quinn', 37, 'standard', 'ada@example.org')",
                "INSERT INTO orders VALUES (60, 13, 512.00, 'BAG-04')");
        awaitOrFail(Duration.ofMinutes(1), () -> assertEquals("ada@example.org",
                real.documents("enriched_orders").get("60").path("customer_email").asText()));

        // current mode: a change of the email alone rewrites the customer's orders already indexed
        real.sql("UPDATE customers SET email = 'amelia.hart@example.org' WHERE id = 1");
        awaitOrFail(Duration.ofMinutes(1), () -> assertEquals(List.of("amelia.hart@example.org"),
                emailsOf(real.documents("enriched_orders"), 1)));
    }

    /** The distinct customer_email values of a customer's orders ("null" for none); fails if it has no order. */
    private static List<String> emailsOf(Map<String, JsonNode> orders, int customerId) {
        List<String> emails = orders.values().stream().filter(order -> order.path("customer_id").asInt() == customerId)
                .map(order -> order.path("customer_email").asText("null")).distinct().sorted().toList();
        assertTrue(!emails.isEmpty(), "customer " + customerId + " has orders");
        return emails;
    }

    /** The README's edit of Customer.java, made on a copy, compiled against the project's classes. */
    private void compileEditedCustomer(Path classes) throws Exception {
        Path source = Files.createDirectories(tempDir.resolve("src")).resolve("Customer.java");
        Files.writeString(source, edit(Files.readString(CUSTOMER),
                "        @JsonProperty(\"membership\") String membership) {\n",
                "        @JsonProperty(\"membership\") String membership,\n"
                + "        @JsonProperty(\"email\") String email) {\n"
                + "\n"
                + "    public Customer(int id, String name, Integer age, String membership) {\n"
                + "        this(id, name, age, membership, null);\n"
                + "    }\n"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, "--release", "17", "-d", classes.toString(), "-cp",
                RealServices.runtimeClasspath(), source.toString());
        assertEquals(0, status, "the edited Customer.java compiles");
    }

    /** {@code text} with {@code from} replaced by {@code to}; fails if {@code from} is not there (the README's edit). */
    private static String edit(String text, String from, String to) {
        assertTrue(text.contains(from), "the line the README edits is there: " + from);
        return text.replace(from, to);
    }

    /** The pipeline's main class in a JVM of its own, the edited classes and resources ahead of the project's. */
    private Process startApp(Path classes, Map<String, String> settings) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", classes + File.pathSeparator + RealServices.runtimeClasspath()));
        real.pipelineProperties().forEach((key, value) -> command.add("-D" + key + "=" + value));
        settings.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add(App.class.getName());
        log = tempDir.resolve("app.log");
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Awaits the assertion; fails at once if the pipeline's process has ended, and on timeout, with the end of its log. */
    private void awaitOrFail(Duration atMost, ThrowingRunnable assertion) throws Exception {
        try {
            await().atMost(atMost).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .failFast("the pipeline's process ended", () -> !app.isAlive())
                    .untilAsserted(assertion);
        } catch (ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            fail(e.getMessage() + "\nits log ends with:\n"
                 + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())), e);
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
