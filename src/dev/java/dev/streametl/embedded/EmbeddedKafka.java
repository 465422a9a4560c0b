package dev.streametl.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import kafka.server.Server;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka 4.1 broker in this JVM: one KRaft node in combined mode (broker and controller), the same server
 * {@code kafka.Kafka} runs, listening on 127.0.0.1 only. Its client listener is PLAINTEXT, or SASL_SSL when started with
 * a {@link SaslSsl}.
 *
 * <p>Layout of the service directory: {@code logs/} (topics and the metadata log; formatted on first start, its
 * meta.properties keeps the cluster id), {@code controller.port} and {@code server.properties} (the configuration
 * of the current run, written at each start).
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int NODE_ID = 1;
    private static final String HOST = "127.0.0.1";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Server server;
    private final int port;
    private final int controllerPort;
    /** How clients must connect; null for PLAINTEXT. */
    private final SaslSsl security;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedKafka(Server server, int port, int controllerPort, SaslSsl security) {
        this.server = server;
        this.port = port;
        this.controllerPort = controllerPort;
        this.security = security;
    }

    /**
     * How a secured broker's client listener is reached: SASL_SSL, mechanism PLAIN with one user (an API key and its
     * secret), TLS with the broker's key and certificate chain from a PKCS12 key store. The broker connects to itself
     * through this listener too, as that user (so it checks its own certificate against {@code trustedCertificates});
     * only the controller listener stays PLAINTEXT, on 127.0.0.1. No authorizer: the one user may do everything.
     *
     * @param keyStore            the broker's key and certificate chain, PKCS12
     * @param keyStorePassword    the password of the key store and of its key
     * @param trustedCertificates the CA certificate(s), PEM, that signed the broker's certificate
     * @param user                the one user name (the API key)
     * @param secret              its password (the API secret): letters and digits only, it goes into a JAAS line
     */
    public record SaslSsl(Path keyStore, String keyStorePassword, Path trustedCertificates, String user, String secret) {

        static final String LISTENER = "SASL_SSL";

        public SaslSsl {
            for (String value : new String[] {user, secret}) {
                if (value == null || !value.matches("[A-Za-z0-9._-]+")) {
                    throw new IllegalArgumentException("Kafka user and secret: letters, digits, '.', '_' and '-' only");
                }
            }
        }

        /** The settings a client needs besides bootstrap.servers, secret included. */
        public Map<String, Object> clientConfig() {
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("security.protocol", "SASL_SSL");
            config.put("sasl.mechanism", "PLAIN");
            config.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                    + user + "\" password=\"" + secret + "\";");
            config.put("ssl.truststore.type", "PEM");
            config.put("ssl.truststore.location", trustedCertificates.toAbsolutePath().toString());
            return config;
        }

        private void addTo(Properties props, int brokerPort, int controllerPort) {
            String prefix = "listener.name." + LISTENER.toLowerCase(Locale.ROOT) + ".";
            props.put("listeners", LISTENER + "://" + HOST + ":" + brokerPort + "," + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
            props.put("advertised.listeners", LISTENER + "://" + HOST + ":" + brokerPort);
            props.put("listener.security.protocol.map", LISTENER + ":SASL_SSL," + CONTROLLER_LISTENER + ":PLAINTEXT");
            props.put("inter.broker.listener.name", LISTENER);
            props.put("sasl.enabled.mechanisms", "PLAIN");
            props.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
            // user_<name>: the accounts the broker accepts; username/password: what it logs in with to itself
            props.put(prefix + "plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
                    + " username=\"" + user + "\" password=\"" + secret + "\" user_" + user + "=\"" + secret + "\";");
            props.put("ssl.keystore.type", "PKCS12");
            props.put("ssl.keystore.location", keyStore.toAbsolutePath().toString());
            props.put("ssl.keystore.password", keyStorePassword);
            props.put("ssl.key.password", keyStorePassword);
            props.put("ssl.truststore.type", "PEM");
            props.put("ssl.truststore.location", trustedCertificates.toAbsolutePath().toString());
        }

        /** Without the secrets: a record's own toString would print them. */
        @Override
        public String toString() {
            return "SaslSsl[user " + user + ", key store " + keyStore + ", trusting " + trustedCertificates + "]";
        }
    }

    /** Starts the broker on {@code port} (0: a free port) and returns once clients can use it. */
    public static EmbeddedKafka start(int port, Path serviceDir) throws IOException {
        return start(port, serviceDir, null);
    }

    /**
     * Starts the broker on {@code port} (0: a free port), its client listener secured as {@code security} says (null:
     * PLAINTEXT), and returns once clients can use it. Its server.properties then holds secrets: only its owner may
     * read it.
     */
    public static EmbeddedKafka start(int port, Path serviceDir, SaslSsl security) throws IOException {
        Path dir = serviceDir.toAbsolutePath().normalize();
        Path logDir = dir.resolve("logs");
        Files.createDirectories(logDir);
        int brokerPort = Ports.choose(port, "Kafka");
        int controllerPort = Ports.choose(controllerPort(dir, port, brokerPort), "Kafka controller");

        Properties properties = serverProperties(brokerPort, controllerPort, logDir);
        if (security != null) {
            security.addTo(properties, brokerPort, controllerPort);
        }
        Path propertiesFile = dir.resolve("server.properties");
        if (security != null) {
            Files.deleteIfExists(propertiesFile);
            Files.createFile(propertiesFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        try (Writer writer = Files.newBufferedWriter(propertiesFile, StandardCharsets.UTF_8)) {
            properties.store(writer, "written by " + EmbeddedKafka.class.getName() + " at each start");
        }
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            format(propertiesFile, logDir);
        }
        EmbeddedKafka kafka = new EmbeddedKafka(newRaftServer(properties), brokerPort, controllerPort, security);
        try {
            kafka.server.startup();
            kafka.awaitReady();
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
        return kafka;
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    /** The value for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    /**
     * The controller port, chosen on the first start and kept in {@code controller.port}: the quorum is pinned to
     * one address, so every start of the same data directory uses the same one (next to a configured broker port:
     * the conventional 9092/9093 pair).
     */
    private static int controllerPort(Path dir, int requestedPort, int brokerPort) throws IOException {
        Path file = dir.resolve("controller.port");
        if (Files.exists(file)) {
            return Integer.parseInt(Files.readString(file, StandardCharsets.UTF_8).trim());
        }
        int chosen = Ports.besides(requestedPort, brokerPort, 1);
        Files.writeString(file, chosen + "\n", StandardCharsets.UTF_8);
        return chosen;
    }

    private static Properties serverProperties(int brokerPort, int controllerPort, Path logDir) {
        Properties props = new Properties();
        props.put("node.id", Integer.toString(NODE_ID));
        props.put("process.roles", "broker,controller");
        props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + "," + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        // one broker: internal topics must not ask for more replicas than exist, or consumer groups hang
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "1");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        // nobody else will join: do not hold the first rebalance back
        props.put("group.initial.rebalance.delay.ms", "0");
        // after a crash the controller waits out the old broker session before the restarted broker may register
        // (9 s by default); broker and controller share this JVM, so a short session is safe
        props.put("broker.heartbeat.interval.ms", "500");
        props.put("broker.session.timeout.ms", "3000");
        props.put("auto.create.topics.enable", "true");
        props.put("num.partitions", "1");
        return props;
    }

    /**
     * {@code new KafkaRaftServer(KafkaConfig.fromProps(properties, false), Time.SYSTEM)}, the server kafka.Kafka runs
     * for a KRaft node. Through reflection because KafkaConfig extends a class of kafka-server, which kafka_2.13
     * declares as a runtime dependency only: naming KafkaConfig here would not compile without a pom change.
     */
    private static Server newRaftServer(Properties properties) {
        try {
            Class<?> configClass = Class.forName("kafka.server.KafkaConfig");
            Object config = configClass.getMethod("fromProps", Properties.class, boolean.class).invoke(null, properties, false);
            return (Server) Class.forName("kafka.server.KafkaRaftServer")
                    .getConstructor(configClass, Time.class)
                    .newInstance(config, Time.SYSTEM);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("Invalid Kafka configuration: " + e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Kafka server classes (kafka_2.13 4.x) not found on the classpath", e);
        }
    }

    /**
     * {@code kafka-storage.sh format -t <new cluster id> -c server.properties}: writes meta.properties and the
     * bootstrap metadata. (Through the tool rather than its Formatter: kafka-metadata is only a runtime dependency.)
     */
    private static void format(Path propertiesFile, Path logDir) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        String clusterId = Uuid.randomUuid().toString();
        int exitCode;
        try (PrintStream printStream = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            exitCode = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", propertiesFile.toString()}, printStream);
        } catch (RuntimeException e) {
            throw new IllegalStateException("Formatting Kafka storage " + logDir + " failed: " + output, e);
        }
        if (exitCode != 0) {
            throw new IllegalStateException("Formatting Kafka storage " + logDir + " failed with " + exitCode + ": " + output);
        }
        LOG.info("Formatted Kafka storage {} for new cluster {}", logDir, clusterId);
    }

    /** Ready means a client gets the broker in the cluster metadata: it has joined and been unfenced. */
    private void awaitReady() {
        Map<String, Object> config = new HashMap<>(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) READY_TIMEOUT.toMillis()));
        if (security != null) {
            config.putAll(security.clientConfig());
        }
        try (Admin admin = Admin.create(config)) {
            Collection<Node> nodes = admin.describeCluster().nodes().get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (nodes.isEmpty()) {
                throw new IllegalStateException("Kafka on " + bootstrapServers() + " reports no live broker");
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Kafka on " + bootstrapServers() + " did not become ready within " + READY_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for Kafka", e);
        }
    }

    /** Controlled shutdown: flushes the logs and closes both listeners. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long startNanos = System.nanoTime();
        try {
            server.shutdown();
            server.awaitShutdown();
            LOG.info("Kafka on {} stopped in {} ms", bootstrapServers(), (System.nanoTime() - startNanos) / 1_000_000);
        } catch (RuntimeException e) {
            LOG.warn("Kafka on {} did not stop cleanly", bootstrapServers(), e);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[" + bootstrapServers() + (security != null ? " " + SaslSsl.LISTENER : "")
               + ", controller port " + controllerPort + "]";
    }
}
