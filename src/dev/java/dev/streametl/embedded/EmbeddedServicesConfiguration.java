package dev.streametl.embedded;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the embedded servers before Camel configures its routes, so that a plain run needs nothing installed, and
 * stops them once Camel has stopped. Being a {@link CamelConfiguration}, it runs the same way under {@code camel:run}
 * (Camel Main finds it by package scan) and under Camel JBang (which calls a compiled {@code CamelConfiguration} as
 * soon as the sources are compiled, before any route is configured).
 * A service is started only when the pipeline is configured to reach it on a loopback address, on the configured
 * port; any other host is an external server and is left alone. Properties are therefore never rewritten.
 *
 * <p>Properties (Camel placeholders, environment and system overrides all apply): {@code etl.embedded.enabled}
 * (true), {@code etl.embedded.data-dir} (data), {@code etl.embedded.elasticsearch-home}
 * (target/elasticsearch-9.2.4), {@code etl.embedded.init-scripts} (sql/create_table.sql,sql/input_data.sql),
 * {@code etl.embedded.schema-registry-home} (target/apicurio-registry), and the connection settings
 * {@code etl.postgres.host/port}, {@code etl.kafka.brokers}, {@code etl.elasticsearch.url},
 * {@code etl.schema-registry.url}; a service configured with TLS or SASL is external too. The schema registry is
 * started only with {@code etl.format=avro} (JSON needs none).
 */
public class EmbeddedServicesConfiguration implements CamelConfiguration, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServicesConfiguration.class);
    private static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "::1");

    private static final long CAMEL_STOP_WAIT_MILLIS = 30_000;

    private EmbeddedServices services;
    private Thread shutdownHook;

    @Override
    public synchronized void configure(CamelContext camel) {
        if (services != null) {
            return; // already started for this run
        }
        settingsFrom(camel.getPropertiesComponent()::resolveProperty).ifPresent(settings -> {
            LOG.info("Embedded services: data in {}", settings.dataDir().toAbsolutePath());
            services = startWithOwnClassLoader(settings);
            services.elasticsearch().ifPresent(EmbeddedElasticsearch::leaveShutdownToCaller);
            // a JVM ended by a signal must not leave the servers behind; but Camel stops first (its own hook runs at
            // the same time), so that consumers leave their groups and offsets are committed while Kafka is still up
            shutdownHook = new Thread(() -> {
                awaitStopped(camel);
                close();
            }, "embedded-services-stopper");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
            camel.addLifecycleStrategy(new LifecycleStrategySupport() {
                @Override
                public void onContextStopped(CamelContext context) {
                    close();
                }
            });
        });
    }

    /**
     * Kafka's broker looks classes up through the thread's context class loader. Under Camel JBang that is not the
     * loader of these classes (compiled from source) and of the downloaded jars, so it is set for the start, and so
     * for the servers' own threads, which inherit it.
     */
    private EmbeddedServices startWithOwnClassLoader(EmbeddedSettings settings) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(getClass().getClassLoader());
        try {
            return EmbeddedServices.start(settings);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Stops the services this configuration started; safe to call more than once. */
    @Override
    public synchronized void close() {
        if (services != null) {
            services.close();
            services = null;
        }
        if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the hook is running or has run: nothing to remove
            }
            shutdownHook = null;
        }
    }

    private static void awaitStopped(CamelContext camel) {
        long deadline = System.currentTimeMillis() + CAMEL_STOP_WAIT_MILLIS;
        while (!camel.isStopped() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The services started by this configuration, if any. */
    public Optional<EmbeddedServices> services() {
        return Optional.ofNullable(services);
    }

    /** The settings the properties ask for; empty when embedded services are switched off. */
    static Optional<EmbeddedSettings> settingsFrom(Function<String, Optional<String>> properties) {
        PropertyReader read = (key, fallback) -> properties.apply(key).map(String::trim).orElse(fallback);
        if (!Boolean.parseBoolean(read.get("etl.embedded.enabled", "true"))) {
            LOG.info("Embedded services are disabled (etl.embedded.enabled=false)");
            return Optional.empty();
        }
        Address postgres = new Address(read.get("etl.postgres.host", "localhost"),
                Integer.parseInt(read.get("etl.postgres.port", "5432")));
        Address kafka = Address.firstBroker(read.get("etl.kafka.brokers", "localhost:9092"));
        java.net.URI elasticsearchUrl = java.net.URI.create(read.get("etl.elasticsearch.url", "http://localhost:9200"));
        Address elasticsearch = new Address(elasticsearchUrl.getHost(),
                elasticsearchUrl.getPort() == -1 ? 9200 : elasticsearchUrl.getPort());
        java.net.URI registryUrl = java.net.URI.create(read.get("etl.schema-registry.url", "http://localhost:8081/apis/ccompat/v7"));
        Address registry = new Address(registryUrl.getHost(), registryUrl.getPort() == -1 ? 8081 : registryUrl.getPort());
        boolean avro = "avro".equalsIgnoreCase(read.get("etl.format", "json"));
        List<Path> initScripts = Arrays.stream(read.get("etl.embedded.init-scripts", "sql/create_table.sql,sql/input_data.sql").split(","))
                .map(String::trim)
                .filter(name -> !name.isEmpty())
                .map(Path::of)
                .toList();
        return Optional.of(new EmbeddedSettings(
                Path.of(read.get("etl.embedded.data-dir", "data")),
                postgres.port(),
                kafka.port(),
                elasticsearch.port(),
                Path.of(read.get("etl.embedded.elasticsearch-home", EmbeddedElasticsearch.DEFAULT_HOME.toString())),
                initScripts,
                postgres.isEmbeddable("PostgreSQL") && plain("PostgreSQL", !Set.of("require", "verify-ca", "verify-full")
                        .contains(read.get("etl.postgres.sslmode", "prefer").toLowerCase())),
                kafka.isEmbeddable("Kafka") && plain("Kafka", read.get("etl.kafka.security-protocol", "PLAINTEXT")
                        .equalsIgnoreCase("PLAINTEXT")),
                elasticsearch.isEmbeddable("Elasticsearch") && plain("Elasticsearch",
                        "http".equals(elasticsearchUrl.getScheme())),
                registry.port(),
                Path.of(read.get("etl.embedded.schema-registry-home", EmbeddedSchemaRegistry.DEFAULT_HOME.toString())),
                avro && registry.isEmbeddable("Schema registry") && plain("Schema registry",
                        "http".equals(registryUrl.getScheme()) && read.get("etl.schema-registry.api-key", "").isBlank())));
    }

    /** The embedded servers speak neither TLS nor SASL: a service configured with them is taken as external. */
    private static boolean plain(String service, boolean plain) {
        if (!plain) {
            LOG.info("{} is configured with TLS or authentication: taken as external, no embedded {} started", service,
                    service);
        }
        return plain;
    }

    @FunctionalInterface
    private interface PropertyReader {
        String get(String key, String fallback);
    }

    /** A configured server address. */
    record Address(String host, int port) {

        Address {
            // accept "http://host" and "[::1]" as well as a bare host name
            host = host.replaceFirst("^[a-zA-Z][a-zA-Z0-9+.-]*://", "").replaceAll("^\\[|]$", "");
        }

        /** The first entry of a bootstrap list such as "localhost:9092,other:9092" or "PLAINTEXT://[::1]:9092". */
        static Address firstBroker(String brokers) {
            String first = brokers.split(",")[0].trim().replaceFirst("^[a-zA-Z_]+://", "");
            int colon = first.lastIndexOf(':');
            boolean hasPort = colon > 0 && !first.endsWith("]") && (first.startsWith("[") || first.indexOf(':') == colon);
            return hasPort
                    ? new Address(first.substring(0, colon), Integer.parseInt(first.substring(colon + 1)))
                    : new Address(first, 9092);
        }

        boolean isEmbeddable(String service) {
            boolean loopback = LOOPBACK_HOSTS.contains(host.toLowerCase());
            if (!loopback) {
                LOG.info("{} at {}:{} is external: no embedded {} started", service, host, port, service);
            }
            return loopback;
        }
    }
}
