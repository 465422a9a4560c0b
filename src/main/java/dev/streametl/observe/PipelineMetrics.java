package dev.streametl.observe;

import java.util.TreeMap;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.ElasticsearchBulk;
import dev.streametl.pipeline.EnrichedOrderBatch;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.debezium.DebeziumConstants;
import org.apache.camel.support.ExchangeHelper;

/**
 * The pipeline's own meters, in the Micrometer registry that camel-main serves in Prometheus format on
 * {@code /observe/metrics} ({@code camel.metrics.enabled}), next to Camel's route meters:
 * <ul>
 * <li>{@value #CAPTURED} {table, op}: row changes written to the change topics (op r = snapshot read);</li>
 * <li>{@value #ENRICHED}, {@value #UNMATCHED}: orders joined with their customer, or given up on;</li>
 * <li>{@value #INDEXED}: enriched order changes Elasticsearch took (index or delete);</li>
 * <li>{@value #DEAD_LETTERED} {route}: records sent to the dead letter endpoint;</li>
 * <li>{@value #BULK} {route, outcome}: time of each Elasticsearch bulk request;</li>
 * <li>{@value #RETRIES} {route}: records or batches a stage tried again; {@value #BUSY} {route}: how long a stage has
 * been on its oldest record or batch in flight (it grows while the stage is stuck);</li>
 * <li>{@value #LAG}, {@value #LAG_LATEST}: from the commit in PostgreSQL (the change's {@code source.ts_ms}) to the
 * enriched order being in Elasticsearch;</li>
 * <li>{@value #RETAINED_WAL}: the WAL PostgreSQL keeps for the capture's replication slot, in bytes.</li>
 * </ul>
 * The routes call the methods below as processors; the progress line reads the same counts.
 */
public final class PipelineMetrics {

    public static final String CAPTURED = "etl.changes.captured";
    public static final String ENRICHED = "etl.orders.enriched";
    public static final String UNMATCHED = "etl.orders.unmatched";
    public static final String INDEXED = "etl.orders.indexed";
    public static final String DEAD_LETTERED = "etl.dead.letters";
    public static final String BULK = "etl.elasticsearch.bulk";
    public static final String LAG = "etl.end.to.end.lag";
    public static final String LAG_LATEST = "etl.end.to.end.lag.latest";
    public static final String RETRIES = "etl.stage.retries";
    public static final String BUSY = "etl.stage.busy";
    public static final String RETAINED_WAL = "etl.capture.retained.wal";

    private static final String BULK_STARTED = "etlBulkStartedNanos";
    private static final Duration[] LAG_BUCKETS = seconds(0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60, 300);
    private static final Duration[] BULK_BUCKETS = seconds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 5);

    private final MeterRegistry registry;
    private final Counter enriched;
    private final Counter unmatched;
    private final Counter indexed;
    private final Timer lag;
    private final AtomicLong latestLagMillis = new AtomicLong(-1);
    private final Map<String, Counter> capturedByTableAndOp = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> capturedByTable = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> snapshotReadsByTable = new ConcurrentHashMap<>();
    private final AtomicLong deadLettered = new AtomicLong();
    private volatile boolean snapshotEnded;
    private volatile long lastIndexedMillis = -1;

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.enriched = Counter.builder(ENRICHED).description("Orders joined with their customer").register(registry);
        this.unmatched = Counter.builder(UNMATCHED).description("Orders whose customer never came (sent to the unmatched endpoint)")
                .register(registry);
        this.indexed = Counter.builder(INDEXED).description("Enriched order changes written to Elasticsearch (index or delete)")
                .register(registry);
        // fixed buckets rather than client-side percentiles: they add up across instances and do not decay when idle
        this.lag = Timer.builder(LAG).description("From the commit in PostgreSQL to the enriched order in Elasticsearch")
                .serviceLevelObjectives(LAG_BUCKETS).register(registry);
        Gauge.builder(LAG_LATEST, latestLagMillis, millis -> Math.max(0, millis.get()) / 1000.0).baseUnit("seconds")
                .description("End-to-end lag of the last order change indexed").register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** A change written to its change topic (headers: Debezium's identifier, operation and source). */
    public void captured(Exchange exchange) {
        String identifier = exchange.getMessage().getHeader(DebeziumConstants.HEADER_IDENTIFIER, "unknown", String.class);
        String table = identifier.substring(identifier.lastIndexOf('.') + 1);
        String op = exchange.getMessage().getHeader(DebeziumConstants.HEADER_OPERATION, "unknown", String.class);
        capturedByTableAndOp.computeIfAbsent(table + "/" + op, key -> Counter.builder(CAPTURED)
                .description("Row changes captured from PostgreSQL onto the change topics")
                .tag("table", table).tag("op", op).register(registry)).increment();
        capturedByTable.computeIfAbsent(table, key -> new AtomicLong()).incrementAndGet();
        if ("r".equals(op)) {
            snapshotReadsByTable.computeIfAbsent(table, key -> new AtomicLong()).incrementAndGet();
            Map<?, ?> source = exchange.getMessage().getHeader(DebeziumConstants.HEADER_SOURCE_METADATA, Map.class);
            if (source != null && "last".equals(String.valueOf(source.get("snapshot")))) {
                snapshotEnded = true;
            }
        } else if (!snapshotReadsByTable.isEmpty()) {
            snapshotEnded = true; // streaming has begun
        }
    }

    public void enriched(Exchange exchange) {
        enriched.increment();
    }

    /** Orders of a batch joined with their customer. */
    public void enriched(int orders) {
        enriched.increment(orders);
    }

    public void unmatched(Exchange exchange) {
        unmatched.increment();
    }

    /** A record on its way to the dead letter endpoint (header {@code etl.route}: the route it failed in). */
    public void deadLettered(Exchange exchange) {
        String route = exchange.getMessage().getHeader(DeadLetter.ROUTE, "unknown", String.class);
        registry.counter(DEAD_LETTERED, "route", route).increment();
        deadLettered.incrementAndGet();
    }

    /** A stage tries a record or batch again (a write, a send, a commit that failed): counted per route. */
    public void retried(Exchange exchange) {
        registry.counter(RETRIES, "route", routeId(exchange)).increment();
    }

    /**
     * Watches a stage (route): how long it has been on its oldest record or batch in flight, which grows while it is
     * stuck (a server away, a write retried) and is 0 when it is idle.
     */
    public void watchStage(CamelContext context, String routeId) {
        Gauge.builder(BUSY, context, camel -> {
            var oldest = camel.getInflightRepository().oldest(routeId);
            return oldest == null ? 0.0 : oldest.getDuration() / 1000.0;
        }).baseUnit("seconds").description("How long the stage has been on its oldest record or batch in flight")
                .tag("route", routeId).register(registry);
        registry.counter(RETRIES, "route", routeId); // there, at 0, before the first retry
    }

    /**
     * The WAL PostgreSQL keeps for the capture's replication slot, read from it at each scrape (NaN while it cannot
     * be read): it grows while Debezium does not confirm what it has read, and would fill the disk.
     */
    public void watchRetainedWal(Supplier<PostgresCheck> postgres) {
        Gauge.builder(RETAINED_WAL, postgres, found -> {
                    PostgresCheck check = found.get();
                    return check == null ? Double.NaN : check.retainedWalBytes();
                })
                .strongReference(true) // the supplier is held by nothing else
                .baseUnit("bytes")
                .description("WAL retained by the capture's replication slot (from its restart_lsn to the current position)")
                .register(registry);
    }

    /** Just before a bulk request is sent. */
    public void bulkStarted(Exchange exchange) {
        exchange.setProperty(BULK_STARTED, System.nanoTime());
    }

    /** The bulk request was answered (each item's result read, whatever it was). */
    public void bulkAnswered(Exchange exchange) {
        recordBulk(exchange, "answered");
    }

    /** The bulk request failed as a whole (ES unreachable, a timeout). */
    public void bulkFailed(Exchange exchange) {
        recordBulk(exchange, "failed");
    }

    private void recordBulk(Exchange exchange, String outcome) {
        Long started = exchange.getProperty(BULK_STARTED, Long.class);
        if (started != null) {
            Timer.builder(BULK).description("Elasticsearch bulk requests").tag("route", routeId(exchange))
                    .tag("outcome", outcome).serviceLevelObjectives(BULK_BUCKETS).register(registry).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        }
    }

    private static Duration[] seconds(double... bounds) {
        return Arrays.stream(bounds).mapToObj(bound -> Duration.ofMillis(Math.round(bound * 1000))).toArray(Duration[]::new);
    }

    private static String routeId(Exchange exchange) {
        String route = ExchangeHelper.getAtRouteId(exchange);
        return route == null ? "unknown" : route;
    }

    /**
     * A batch of enriched order changes is in Elasticsearch: counts what ES took, and the end-to-end lag of each
     * change whose source commit time is known (gathered by {@link EnrichedOrderBatch}).
     */
    public void indexed(Exchange exchange) {
        indexed.increment(ElasticsearchBulk.written(exchange));
        long now = System.currentTimeMillis();
        for (long committed : EnrichedOrderBatch.sourceTimestamps(exchange)) {
            long millis = Math.max(0, now - committed);
            lag.record(millis, TimeUnit.MILLISECONDS);
            latestLagMillis.set(millis);
            lastIndexedMillis = now;
        }
    }

    // what the progress line shows

    public long captured() {
        return capturedByTable.values().stream().mapToLong(AtomicLong::get).sum();
    }

    public Map<String, Long> capturedByTable() {
        Map<String, Long> counts = new TreeMap<>();
        capturedByTable.forEach((table, count) -> counts.put(table, count.get()));
        return counts;
    }

    public Map<String, Long> snapshotReadsByTable() {
        Map<String, Long> counts = new TreeMap<>();
        snapshotReadsByTable.forEach((table, count) -> counts.put(table, count.get()));
        return counts;
    }

    /** True from the first snapshot read until the last one (or the first streamed change). */
    public boolean isSnapshotting() {
        return !snapshotReadsByTable.isEmpty() && !snapshotEnded;
    }

    public long enriched() {
        return (long) enriched.count();
    }

    public long unmatched() {
        return (long) unmatched.count();
    }

    public long indexed() {
        return (long) indexed.count();
    }

    public long deadLettered() {
        return deadLettered.get();
    }

    /** The end-to-end lag of the last order change indexed, in ms; -1 before the first. */
    public long latestLagMillis() {
        return latestLagMillis.get();
    }

    /** When the last order change with a known source time was indexed (epoch ms); -1 before the first. */
    public long lastIndexedMillis() {
        return lastIndexedMillis;
    }
}
