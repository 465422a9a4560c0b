package dev.streametl.embedded;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL, Kafka, Elasticsearch and a schema registry for a one-command run or a test, each one optional. They start in
 * parallel: they share nothing, and Elasticsearch alone takes several seconds.
 */
public final class EmbeddedServices implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServices.class);

    private final EmbeddedPostgres postgres;
    private final EmbeddedKafka kafka;
    private final EmbeddedElasticsearch elasticsearch;
    private final EmbeddedSchemaRegistry schemaRegistry;
    /** In start order; closed in reverse. */
    private final List<AutoCloseable> started;

    private DataDirLock lock;

    private EmbeddedServices(EmbeddedElasticsearch elasticsearch, EmbeddedPostgres postgres, EmbeddedKafka kafka,
                             EmbeddedSchemaRegistry schemaRegistry) {
        this.elasticsearch = elasticsearch;
        this.postgres = postgres;
        this.kafka = kafka;
        this.schemaRegistry = schemaRegistry;
        List<AutoCloseable> services = new ArrayList<>();
        for (AutoCloseable service : new AutoCloseable[] {elasticsearch, postgres, kafka, schemaRegistry}) {
            if (service != null) {
                services.add(service);
            }
        }
        this.started = services;
    }

    /** Starts the services the settings switch on and returns when all are ready; on any failure none is left running. */
    public static EmbeddedServices start(EmbeddedSettings settings) {
        DataDirLock lock = DataDirLock.acquire(settings.dataDir());
        try {
            EmbeddedServices services = startLocked(settings);
            services.lock = lock;
            return services;
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private static EmbeddedServices startLocked(EmbeddedSettings settings) {
        AtomicInteger threadCount = new AtomicInteger();
        ExecutorService starter = Executors.newFixedThreadPool(4, task -> {
            Thread thread = new Thread(task, "embedded-start-" + threadCount.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        try {
            // Elasticsearch first: it boots longest, the others start meanwhile
            CompletableFuture<EmbeddedElasticsearch> elasticsearch = startIf(settings.elasticsearch(), "Elasticsearch",
                    () -> EmbeddedElasticsearch.start(settings.elasticsearchPort(), settings.elasticsearchDir(), settings.elasticsearchHome()),
                    EmbeddedElasticsearch::url, starter);
            CompletableFuture<EmbeddedPostgres> postgres = startIf(settings.postgres(), "PostgreSQL",
                    () -> EmbeddedPostgres.start(settings.postgresPort(), settings.postgresDir(), settings.initScripts()),
                    EmbeddedPostgres::jdbcUrl, starter);
            CompletableFuture<EmbeddedKafka> kafka = startIf(settings.kafka(), "Kafka",
                    () -> EmbeddedKafka.start(settings.kafkaPort(), settings.kafkaDir()),
                    EmbeddedKafka::bootstrapServers, starter);
            CompletableFuture<EmbeddedSchemaRegistry> schemaRegistry = startIf(settings.schemaRegistry(), "Schema registry",
                    () -> EmbeddedSchemaRegistry.start(settings.schemaRegistryPort(), settings.schemaRegistryDir(),
                            settings.schemaRegistryHome()),
                    EmbeddedSchemaRegistry::url, starter);
            try {
                CompletableFuture.allOf(elasticsearch, postgres, kafka, schemaRegistry).join();
            } catch (CompletionException e) {
                // allOf waited for every start to end: close the ones that made it
                new EmbeddedServices(startedOrNull(elasticsearch), startedOrNull(postgres), startedOrNull(kafka),
                        startedOrNull(schemaRegistry)).close();
                throw new IllegalStateException("Embedded services failed to start: " + e.getCause().getMessage(), e.getCause());
            }
            return new EmbeddedServices(elasticsearch.join(), postgres.join(), kafka.join(), schemaRegistry.join());
        } finally {
            starter.shutdown();
        }
    }

    /**
     * A free port on the loopback interface, never handed out before in this JVM, for a server started beside these
     * (a test's second pipeline, say): two picks made at once never collide.
     */
    public static int freePort() {
        return Ports.freePort();
    }

    public Optional<EmbeddedPostgres> postgres() {
        return Optional.ofNullable(postgres);
    }

    public Optional<EmbeddedKafka> kafka() {
        return Optional.ofNullable(kafka);
    }

    public Optional<EmbeddedElasticsearch> elasticsearch() {
        return Optional.ofNullable(elasticsearch);
    }

    public Optional<EmbeddedSchemaRegistry> schemaRegistry() {
        return Optional.ofNullable(schemaRegistry);
    }

    /** Stops the services in reverse start order; failures are logged, never thrown. */
    @Override
    public void close() {
        List<AutoCloseable> reversed = new ArrayList<>(started);
        Collections.reverse(reversed);
        for (AutoCloseable service : reversed) {
            try {
                service.close();
            } catch (Exception e) {
                LOG.warn("Stopping {} failed", service, e);
            }
        }
        if (lock != null) {
            lock.close();
            lock = null;
        }
    }

    @FunctionalInterface
    private interface Starter<T> {
        T start() throws Exception;
    }

    private static <T> CompletableFuture<T> startIf(boolean enabled, String name, Starter<T> starter,
                                                    Function<T, String> address, ExecutorService executor) {
        if (!enabled) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.supplyAsync(() -> {
            long startNanos = System.nanoTime();
            try {
                T service = starter.start();
                LOG.info("{} ready at {} (started in {} ms)", name, address.apply(service), (System.nanoTime() - startNanos) / 1_000_000);
                return service;
            } catch (Exception e) {
                throw new IllegalStateException(name + " did not start: " + e.getMessage(), e);
            }
        }, executor);
    }

    private static <T> T startedOrNull(CompletableFuture<T> future) {
        return future.isCompletedExceptionally() ? null : future.join();
    }
}
