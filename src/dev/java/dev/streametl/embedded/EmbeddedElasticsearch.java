package dev.streametl.embedded;

import dev.streametl.pipeline.TrustedCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import javax.net.ssl.SSLContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Elasticsearch 9 server: the unpacked official distribution, run as a child process (never daemonised,
 * so that it goes away with this JVM), bound to 127.0.0.1, single node, security off (or on, over HTTPS, when started with
 * a {@link Security}).
 *
 * <p>Layout of the service directory: {@code config/} (copied from the distribution on first start, then
 * {@code elasticsearch.yml} rewritten at each start), {@code data/}, {@code logs/} (with {@code console.log}, the
 * process output), {@code tmp/} and {@code elasticsearch.pid}. The distribution itself is only read.
 */
public final class EmbeddedElasticsearch implements AutoCloseable {

    public static final Path DEFAULT_HOME = Path.of("target", "elasticsearch-9.2.4");
    public static final int DEFAULT_HEAP_MB = 512;

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedElasticsearch.class);
    private static final String HOST = "localhost";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
    private static final int LOG_TAIL_LINES = 40;
    /** Elasticsearch refuses to run as root; as root we run it as this user. */
    private static final String UNPRIVILEGED_USER = "nobody";
    private static final Pattern USABLE_HEALTH = Pattern.compile("\"status\"\\s*:\\s*\"(green|yellow)\"");

    private final int port;
    private final Path consoleLog;
    private final Process process;
    /** True when the launched process is runuser, with Elasticsearch below it. */
    private final boolean launchedThroughRunuser;
    /** Null: security off, plain HTTP. */
    private final Security security;
    private final Thread shutdownHook;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedElasticsearch(int port, Path consoleLog, Process process, boolean launchedThroughRunuser, Security security) {
        this.port = port;
        this.consoleLog = consoleLog;
        this.process = process;
        this.launchedThroughRunuser = launchedThroughRunuser;
        this.security = security;
        // the server is a separate JVM: without this hook an exiting JVM would leave it running
        this.shutdownHook = new Thread(this::stop, "elasticsearch-" + port + "-stopper");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public static EmbeddedElasticsearch start(int port, Path serviceDir, Path home) throws IOException {
        return start(port, serviceDir, home, DEFAULT_HEAP_MB);
    }

    /**
     * Security on: HTTPS only, with this PEM key and certificate (chain), and the built-in superuser {@value #SUPERUSER}
     * with this password (its bootstrap password, put into the server's secure settings through the key store tool's
     * standard input: never on a command line, nor in elasticsearch.yml). The files are copied into the server's
     * config/certs, where it may read them. Transport TLS is not needed: one node, bound to 127.0.0.1.
     *
     * @param certificate          the server certificate, PEM (the chain may follow it)
     * @param privateKey           its private key, PEM, unencrypted
     * @param certificateAuthority the CA certificate, PEM: what the readiness check trusts
     * @param elasticPassword      the password of {@value #SUPERUSER}: at least 6 characters
     */
    public record Security(Path certificate, Path privateKey, Path certificateAuthority, String elasticPassword) {

        /** The built-in superuser. */
        public static final String SUPERUSER = "elastic";

        public Security {
            if (elasticPassword == null || elasticPassword.length() < 6) {
                throw new IllegalArgumentException("The password of " + SUPERUSER + " needs at least 6 characters");
            }
        }

        /** Without the password: a record's own toString would print it. */
        @Override
        public String toString() {
            return "Security[https with " + certificate + ", user " + SUPERUSER + "]";
        }

        /** The lines of elasticsearch.yml; the paths relative to the config directory, where the files are copied. */
        private List<String> settings() {
            return List.of(
                    "xpack.security.enabled: true",
                    "xpack.security.http.ssl.enabled: true",
                    "xpack.security.http.ssl.certificate: certs/http.crt",
                    "xpack.security.http.ssl.key: certs/http.key",
                    "xpack.security.http.ssl.certificate_authorities: [ \"certs/ca.crt\" ]");
        }

        private void copyFilesTo(Path configDir) throws IOException {
            Path certs = Files.createDirectories(configDir.resolve("certs"));
            Files.copy(certificate, certs.resolve("http.crt"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(certificateAuthority, certs.resolve("ca.crt"), StandardCopyOption.REPLACE_EXISTING);
            Path key = certs.resolve("http.key");
            Files.deleteIfExists(key);
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(key, Files.readAllBytes(privateKey));
        }

        /** A client context that trusts the given CA alone. */
        private SSLContext trustingTheCa() {
            return TrustedCertificates.sslContext(certificateAuthority, "Embedded Elasticsearch");
        }

        private String basicAuthorization() {
            return "Basic " + Base64.getEncoder().encodeToString((SUPERUSER + ":" + elasticPassword).getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Starts Elasticsearch with security on as {@code security} says, on HTTPS {@code port} (0: a free port), and
     * returns once the cluster health, asked as {@value Security#SUPERUSER}, is green or yellow.
     */
    public static EmbeddedElasticsearch start(int port, Path serviceDir, Path home, int maxHeapMb, Security security) throws IOException {
        return startWith(port, serviceDir, home, maxHeapMb, Objects.requireNonNull(security, "security"));
    }

    /**
     * Starts Elasticsearch on HTTP {@code port} (0: a free port) from the distribution at {@code home}, with a heap
     * of at most {@code maxHeapMb}, and returns once the cluster health is green or yellow.
     */
    public static EmbeddedElasticsearch start(int port, Path serviceDir, Path home, int maxHeapMb) throws IOException {
        return startWith(port, serviceDir, home, maxHeapMb, null);
    }

    /** Security null: off. */
    private static EmbeddedElasticsearch startWith(int port, Path serviceDir, Path home, int maxHeapMb, Security security)
            throws IOException {
        Path esHome = home.toAbsolutePath().normalize();
        Path dir = serviceDir.toAbsolutePath().normalize();
        requireDistribution(esHome);
        Path javaHome = JavaRuntimes.forElasticsearch();
        Path pidFile = dir.resolve("elasticsearch.pid");
        ProcessTree.stopLeftover(pidFile, "elasticsearch", STOP_GRACE);

        int httpPort = Ports.choose(port, "Elasticsearch");
        int transportPort = Ports.besides(port, httpPort, 100);
        Path configDir = writeConfiguration(esHome, dir, httpPort, transportPort, maxHeapMb, security);
        Path consoleLog = dir.resolve("logs").resolve("console.log");

        boolean asRoot = "root".equals(System.getProperty("user.name"));
        if (asRoot) {
            handOverTo(UNPRIVILEGED_USER, esHome, dir);
        }
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("ES_JAVA_HOME", javaHome.toString());
        environment.put("ES_PATH_CONF", configDir.toString());
        environment.put("ES_TMPDIR", dir.resolve("tmp").toString());
        if (security != null) {
            storeSecureSetting(esHome, dir, environment, "bootstrap.password", security.elasticPassword(), asRoot);
        }
        LOG.info("Starting Elasticsearch from {} with Java {} on port {}{}{}", esHome, javaHome, httpPort,
                asRoot ? " as user " + UNPRIVILEGED_USER : "", security != null ? ", security on (HTTPS)" : "");
        Process process = launch(esHome.resolve("bin/elasticsearch"), dir, environment, pidFile, consoleLog, asRoot);

        EmbeddedElasticsearch elasticsearch = new EmbeddedElasticsearch(httpPort, consoleLog, process, asRoot, security);
        try {
            elasticsearch.awaitHealthy();
        } catch (RuntimeException e) {
            elasticsearch.close();
            throw e;
        }
        return elasticsearch;
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    /** http://localhost:PORT, or https:// with security on. */
    public String url() {
        return (security != null ? "https://" : "http://") + HOST + ":" + port;
    }

    public String hostAndPort() {
        return HOST + ":" + port;
    }

    /** The launched process (runuser when we run as root); the server JVM is among its descendants. */
    ProcessHandle processHandle() {
        return process.toHandle();
    }

    /**
     * Runs bin/elasticsearch in the foreground (so it stays our child), its output in console.log. As root it runs
     * through runuser, with the variables passed by env since they must reach the other user's process.
     */
    private static Process launch(Path script, Path dir, Map<String, String> environment, Path pidFile, Path consoleLog,
                                  boolean asRoot) throws IOException {
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            // a session of its own: a Ctrl-C in the terminal reaches the pipeline, which stops ES when done with it
            command.add("/usr/bin/setsid");
        }
        if (asRoot) {
            command.addAll(List.of("runuser", "-u", UNPRIVILEGED_USER, "--", "env", "-u", "JAVA_HOME", "-u", "JAVA_TOOL_OPTIONS"));
            environment.forEach((name, value) -> command.add(name + "=" + value));
        }
        command.addAll(List.of(script.toString(), "-p", pidFile.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(consoleLog.toFile()));
        // the start script only reads ES_JAVA_HOME: it warns about JAVA_HOME and strips JAVA_TOOL_OPTIONS
        builder.environment().remove("JAVA_HOME");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().putAll(environment);
        return builder.start();
    }

    private static void requireDistribution(Path esHome) {
        if (!Files.isRegularFile(esHome.resolve("bin/elasticsearch"))) {
            throw new IllegalStateException("No Elasticsearch distribution at " + esHome + " (bin/elasticsearch is missing)."
                    + " Run 'mvn generate-resources' to unpack it, or set etl.embedded.elasticsearch-home.");
        }
    }

    private static Path writeConfiguration(Path esHome, Path dir, int httpPort, int transportPort, int maxHeapMb,
                                           Security security) throws IOException {
        Path configDir = dir.resolve("config");
        for (String sub : List.of("data", "logs", "tmp")) {
            Files.createDirectories(dir.resolve(sub));
        }
        if (!Files.exists(configDir.resolve("jvm.options"))) {
            copyTree(esHome.resolve("config"), configDir);
        }
        // rewritten at every start: the ports may differ between runs
        List<String> lines = new ArrayList<>(List.of(
                "# written by " + EmbeddedElasticsearch.class.getName() + " at each start",
                "cluster.name: embedded",
                "discovery.type: single-node",
                "network.host: 127.0.0.1",
                "http.port: " + httpPort,
                "transport.port: " + transportPort));
        if (security == null) {
            lines.add("xpack.security.enabled: false");
        } else {
            lines.addAll(security.settings());
            security.copyFilesTo(configDir);
        }
        lines.addAll(List.of(
                // a nearly full developer disk must not turn indices read-only
                "cluster.routing.allocation.disk.threshold_enabled: false",
                "action.destructive_requires_name: false",
                "path.data: " + dir.resolve("data"),
                "path.logs: " + dir.resolve("logs"),
                ""));
        String settings = String.join("\n", lines);
        Files.writeString(configDir.resolve("elasticsearch.yml"), settings, StandardCharsets.UTF_8);
        Path jvmOptions = Files.createDirectories(configDir.resolve("jvm.options.d"));
        int initialHeapMb = Math.min(256, maxHeapMb);
        Files.writeString(jvmOptions.resolve("embedded-heap.options"),
                "-Xms" + initialHeapMb + "m\n-Xmx" + maxHeapMb + "m\n", StandardCharsets.UTF_8);
        return configDir;
    }

    private static void copyTree(Path source, Path target) throws IOException {
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path destination = target.resolve(source.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(destination);
                } else if (!Files.exists(destination)) {
                    Files.copy(path, destination);
                }
            }
        }
    }

    /**
     * Gives the service directory to {@code user} and checks that the user can reach both it and the distribution,
     * so that a permission problem shows up here rather than as an obscure start-up failure.
     */
    private static void handOverTo(String user, Path esHome, Path dir) {
        // "user:" is the user's login group: nogroup on Debian, nobody elsewhere
        runOrFail(List.of("chown", "-R", user + ":", dir.toString()), "chown the Elasticsearch directory " + dir);
        if (!succeeds(List.of("runuser", "-u", user, "--", "test",
                "-x", esHome.resolve("bin/elasticsearch").toString(),
                "-a", "-r", esHome.resolve("lib").toString(), "-a", "-x", esHome.resolve("lib").toString(),
                "-a", "-x", esHome.resolve("modules").toString()))) {
            throw new IllegalStateException("Elasticsearch refuses to run as root, so it runs as user '" + user
                    + "', who cannot read the distribution at " + esHome + ". Make it readable by all"
                    + " (chmod -R o+rX " + esHome + ", and o+x on each parent directory), or run as a non-root user.");
        }
        if (!succeeds(List.of("runuser", "-u", user, "--", "test", "-w", dir.toString(), "-a", "-x", dir.toString()))) {
            throw new IllegalStateException("Elasticsearch refuses to run as root, so it runs as user '" + user
                    + "', who cannot reach its data directory " + dir + ". Give the parent directories o+x"
                    + " (chmod o+x <dir>), or choose a data directory under a world-traversable path.");
        }
    }

    /**
     * {@code elasticsearch-keystore add --stdin --force NAME} as the server's user: the value goes through standard
     * input, never on a command line. Creates the key store on first use.
     */
    private static void storeSecureSetting(Path esHome, Path dir, Map<String, String> environment, String name, String value,
                                           boolean asRoot) throws IOException {
        List<String> command = new ArrayList<>();
        if (asRoot) {
            command.addAll(List.of("runuser", "-u", UNPRIVILEGED_USER, "--", "env", "-u", "JAVA_HOME", "-u", "JAVA_TOOL_OPTIONS"));
            environment.forEach((key, setting) -> command.add(key + "=" + setting));
        }
        command.addAll(List.of(esHome.resolve("bin/elasticsearch-keystore").toString(), "add", "--stdin", "--force", name));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().remove("JAVA_HOME");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().putAll(environment);
        Process tool = builder.start();
        try (var input = tool.getOutputStream()) {
            input.write((value + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(tool.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            int exitCode = tool.waitFor();
            if (exitCode != 0) {
                throw new IllegalStateException("Could not put " + name + " into the Elasticsearch key store: "
                        + "elasticsearch-keystore exited with " + exitCode + ": " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running elasticsearch-keystore", e);
        }
    }

    private static void runOrFail(List<String> command, String purpose) {
        CommandResult result = run(command);
        if (result.exitCode() != 0) {
            throw new IllegalStateException("Could not " + purpose + ": " + String.join(" ", command)
                    + " exited with " + result.exitCode() + ": " + result.output());
        }
    }

    private static boolean succeeds(List<String> command) {
        return run(command).exitCode() == 0;
    }

    private record CommandResult(int exitCode, String output) {
    }

    private static CommandResult run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return new CommandResult(process.waitFor(), output);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running " + command.get(0), e);
        }
    }

    /**
     * Polls GET /_cluster/health (this distribution answers GET / with 405) until the status is green or yellow;
     * fails at once if the process dies, with the end of its console output.
     */
    private void awaitHealthy() {
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(
                        (security != null ? url() : "http://127.0.0.1:" + port) + "/_cluster/health"))
                .timeout(Duration.ofSeconds(5))
                .GET();
        if (security != null) {
            client.sslContext(security.trustingTheCa());
            request.header("Authorization", security.basicAuthorization());
        }
        HttpClient http = client.build();
        HttpRequest health = request.build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String lastAnswer = "no answer";
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Elasticsearch exited during start-up with code " + process.exitValue()
                        + ". End of " + consoleLog + ":\n" + consoleTail());
            }
            try {
                HttpResponse<String> response = http.send(health, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && USABLE_HEALTH.matcher(response.body()).find()) {
                    return;
                }
                lastAnswer = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                lastAnswer = e.toString(); // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for Elasticsearch", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Elasticsearch on port " + port + " was not healthy after " + START_TIMEOUT
                        + " (last answer: " + lastAnswer + "). End of " + consoleLog + ":\n" + consoleTail());
            }
            awaitExit(POLL_INTERVAL);
        }
    }

    /** A pause between polls that ends early when the process dies. */
    private void awaitExit(Duration timeout) {
        try {
            process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for Elasticsearch", e);
        }
    }

    private String consoleTail() {
        try {
            // lenient decoding: a tail is for reading, not worth failing over a stray byte
            List<String> lines = new String(Files.readAllBytes(consoleLog), StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + consoleLog + ": " + e + ")";
        }
    }

    /** Stops the server: SIGTERM, up to 20 s for a clean shutdown, then SIGKILL. */
    @Override
    public void close() {
        leaveShutdownToCaller();
        stop();
    }

    /**
     * Drops this server's own shutdown hook, for a caller whose hook closes the server itself, in order: after the
     * pipeline has stopped writing to it.
     */
    public void leaveShutdownToCaller() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs (or ran) stop() itself
        }
    }

    private void stop() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long startNanos = System.nanoTime();
        ProcessTree.stop(process.toHandle(), launchedThroughRunuser, STOP_GRACE);
        LOG.info("Elasticsearch on port {} stopped in {} ms", port, (System.nanoTime() - startNanos) / 1_000_000);
    }

    @Override
    public String toString() {
        return "EmbeddedElasticsearch[" + url() + "]";
    }
}
