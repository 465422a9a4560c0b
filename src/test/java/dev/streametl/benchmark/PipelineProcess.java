package dev.streametl.benchmark;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.embedded.EmbeddedServices;
import dev.streametl.pipeline.Json;

/**
 * A pipeline instance in a process of its own, as an operator runs it: the production jar ({@code java -jar}) with its
 * settings as system properties, in a working folder without the project's files, its output to a log file. Measured
 * from outside ({@code jcmd} for its heap, its management server for its routes), its figures are its own: the Kafka
 * broker and the load generator stay in the benchmark's JVM, as the servers are apart from the pipeline in production.
 */
final class PipelineProcess implements AutoCloseable {

    /** A graceful stop gets this long (the pipeline's own shutdown timeout is 20 s) before the process is killed. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path log;
    private final String management;
    private final Thread killOnExit;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PipelineProcess(Process process, Path log, String management) {
        this.process = process;
        this.log = log;
        this.management = management;
        // the benchmark ended otherwise than by stop() (a failure, Ctrl-C): no instance is left running
        this.killOnExit = new Thread(process::destroyForcibly, "stop-pipeline-process");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /**
     * Starts {@code java [jvmArgs] -D... -jar jar}, with the management server on a free port of its own, in
     * {@code workDir}, its output (standard and error) to {@code log}.
     */
    static PipelineProcess start(Path jar, List<String> jvmArgs, Map<String, String> properties, Path workDir, Path log)
            throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: ./mvnw package makes it (the benchmark profile runs after it)");
        }
        int port = EmbeddedServices.freePort();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmArgs);
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-Dcamel.management.port=" + port);
        command.addAll(List.of("-jar", jar.toAbsolutePath().toString()));
        Files.createDirectories(workDir);
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        return new PipelineProcess(process, log, "http://localhost:" + port);
    }

    long pid() {
        return process.pid();
    }

    /** Throws, with the end of the process's log, if the process has ended. */
    void checkAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException("the pipeline's process ended (exit " + process.exitValue() + "); " + log
                    + " ends with:\n" + logTail(60));
        }
    }

    /**
     * Whether the route runs, as its MBean says through the management server's Jolokia (read-only): the order enrichment
     * starts only once the customer table has caught up, after health is already UP.
     */
    boolean routeStarted(String routeId) {
        checkAlive();
        String read = "{\"type\":\"read\",\"mbean\":\"org.apache.camel:type=routes,name=\\\"" + routeId
                + "\\\",*\",\"attribute\":\"State\"}";
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(management + "/observe/jolokia"))
                    .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(read)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                return false;
            }
            for (JsonNode route : Json.read(response.body(), JsonNode.class).path("value")) {
                if ("Started".equals(route.path("State").asText())) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false; // the management server is not up yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code jcmd <pid> command...} (the JDK's, against this process), its output to {@code output}. */
    void jcmd(Path output, Duration limit, String... command) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(pid())));
        args.addAll(List.of(command));
        Process jcmd = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!jcmd.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            jcmd.destroyForcibly();
            throw new IOException("jcmd " + String.join(" ", command) + " took more than " + limit);
        }
        if (jcmd.exitValue() != 0) {
            throw new IOException("jcmd " + String.join(" ", command) + " exited " + jcmd.exitValue() + ": "
                    + Files.readString(output).trim());
        }
    }

    /** A graceful stop, as an operator's (SIGTERM: Camel shuts the routes down); killed if it takes too long. */
    void stop() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down already: the hook runs, and finds the process ended
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | RuntimeException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
