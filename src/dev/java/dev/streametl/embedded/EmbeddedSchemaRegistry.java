package dev.streametl.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real schema registry: Apicurio Registry (built from Maven Central by {@code registry/pom.xml} into
 * {@code target/apicurio-registry}), run as a child JVM bound to 127.0.0.1, its schemas in an H2 database file under
 * the service directory so that ids survive a restart. Clients use its Confluent-compatible API, {@link #url()}
 * ({@code http://localhost:PORT/apis/ccompat/v7}), as they would Confluent's Schema Registry.
 *
 * <p>Layout of the service directory: {@code registry.mv.db} (the schemas), {@code console.log} (the process output)
 * and {@code schema-registry.pid}. The built registry itself is only read.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {

    public static final Path DEFAULT_HOME = Path.of("target", "apicurio-registry");
    /** Where the Confluent-compatible API lives on an Apicurio Registry. */
    public static final String CONFLUENT_API_PATH = "/apis/ccompat/v7";
    public static final int DEFAULT_HEAP_MB = 256;

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);
    private static final String HOST = "localhost";
    private static final String RUNNER = "apicurio-registry-runner.jar";
    /** Quarkus takes 12 s here on a quiet machine, over 30 s when the cores are busy. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
    private static final int LOG_TAIL_LINES = 40;

    private final int port;
    private final Path consoleLog;
    private final Process process;
    private final Thread shutdownHook;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedSchemaRegistry(int port, Path consoleLog, Process process) {
        this.port = port;
        this.consoleLog = consoleLog;
        this.process = process;
        // the registry is a separate JVM: without this hook an exiting JVM would leave it running
        this.shutdownHook = new Thread(this::stop, "schema-registry-" + port + "-stopper");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts the registry built at {@code home} on {@code port} (0: a free port), its data in {@code serviceDir}, and
     * returns once its Confluent-compatible API answers.
     */
    public static EmbeddedSchemaRegistry start(int port, Path serviceDir, Path home) throws IOException {
        Path runner = home.toAbsolutePath().normalize().resolve(RUNNER);
        if (!Files.isRegularFile(runner)) {
            throw new IllegalStateException("No schema registry at " + runner.getParent() + " (" + RUNNER + " is missing)."
                    + " Run 'mvn generate-resources' to build it, or set etl.embedded.schema-registry-home.");
        }
        Path dir = Files.createDirectories(serviceDir.toAbsolutePath().normalize());
        Path pidFile = dir.resolve("schema-registry.pid");
        ProcessTree.stopLeftover(pidFile, RUNNER, STOP_GRACE);

        int httpPort = Ports.choose(port, "Schema registry");
        Path consoleLog = dir.resolve("console.log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + DEFAULT_HEAP_MB + "m",
                "-jar", runner.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(consoleLog.toFile()));
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().put("HTTP_PORT", Integer.toString(httpPort));
        builder.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        builder.environment().put("REGISTRY_DATASOURCE_URL", "jdbc:h2:file:" + dir.resolve("registry"));
        // a pool of 20 connections at start is Apicurio's default for a shared database; one file needs few
        builder.environment().put("_PROD_QUARKUS_DATASOURCE_JDBC_INITIAL_SIZE", "2");
        builder.environment().put("_PROD_QUARKUS_DATASOURCE_JDBC_MIN_SIZE", "2");
        LOG.info("Starting the schema registry (Apicurio Registry) from {} on port {}", runner.getParent(), httpPort);
        Process process = builder.start();
        Files.writeString(pidFile, Long.toString(process.pid()), StandardCharsets.UTF_8);

        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(httpPort, consoleLog, process);
        try {
            registry.awaitReady();
            registry.requireBackwardCompatibility();
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    public int port() {
        return port;
    }

    /** The Confluent-compatible API: http://localhost:PORT/apis/ccompat/v7. */
    public String url() {
        return "http://" + HOST + ":" + port + CONFLUENT_API_PATH;
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest subjects = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + CONFLUENT_API_PATH + "/subjects"))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String lastAnswer = "no answer";
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("The schema registry exited during start-up with code " + process.exitValue()
                        + ". End of " + consoleLog + ":\n" + consoleTail());
            }
            try {
                HttpResponse<String> response = http.send(subjects, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                lastAnswer = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                lastAnswer = e.toString(); // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for the schema registry", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("The schema registry on port " + port + " did not answer after "
                        + START_TIMEOUT + " (last answer: " + lastAnswer + "). End of " + consoleLog + ":\n" + consoleTail());
            }
            try {
                process.waitFor(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for the schema registry", e);
            }
        }
    }

    /**
     * Confluent's registry refuses by default a new version that its readers could not read older records with
     * (BACKWARD); Apicurio's accepts anything (NONE). Set as Confluent's, at each start: the pipeline is built
     * against that rule.
     */
    private void requireBackwardCompatibility() {
        HttpRequest config = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + CONFLUENT_API_PATH + "/config"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"compatibility\":\"BACKWARD\"}"))
                .build();
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(config, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("The schema registry refused its compatibility rule: HTTP "
                        + response.statusCode() + " " + response.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot set the schema registry's compatibility rule", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while setting the schema registry's compatibility rule", e);
        }
    }

    private String consoleTail() {
        try {
            List<String> lines = Files.readAllLines(consoleLog, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private void stop() {
        if (closed.compareAndSet(false, true)) {
            ProcessTree.stop(process.toHandle(), false, STOP_GRACE);
        }
    }

    /** Stops the registry (SIGTERM, then SIGKILL after a grace period); its data stays. */
    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or has run
        }
    }

    @Override
    public String toString() {
        return "schema registry at " + url();
    }
}
