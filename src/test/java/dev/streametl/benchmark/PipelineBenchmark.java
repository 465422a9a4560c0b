package dev.streametl.benchmark;

import java.io.IOException;
import java.io.StringReader;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.streametl.App;
import dev.streametl.embedded.EmbeddedSchemaRegistry;
import dev.streametl.embedded.EmbeddedServices;
import dev.streametl.embedded.EmbeddedSettings;
import dev.streametl.observe.PipelineMetrics;
import dev.streametl.pipeline.ChangeEvent;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.EnrichedOrderChange;
import dev.streametl.pipeline.Json;
import dev.streametl.routes.PipelineBeans;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.ServiceStatus;
import org.apache.camel.component.caffeine.CaffeineConstants;
import org.apache.camel.main.Main;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Measures the pipeline on the real servers, started by the project's own code on free ports with their data under
 * {@code target/benchmark/}: each stage alone, then the whole pipeline, its latency at a steady rate and the heap the
 * customer table takes. Prints a table and writes the figures to {@code target/benchmark.json}.
 * <p>
 * Run: {@code ./mvnw -Pbenchmark verify} (sizes: {@code -Dbench.customers=10000 -Dbench.orders=200000
 * -Dbench.latency-seconds=60 -Dbench.latency-rate=2000 -Dbench.memory-customers=100000}; the servers' data is
 * deleted at the end unless {@code -Dbench.keep-data=true}). Every stage is swapped in or out by the pipeline's own
 * endpoint properties; nothing in the pipeline knows it is measured.
 */
public final class PipelineBenchmark {

    private static final Path ELASTICSEARCH_HOME = Path.of(System.getProperty("etl.embedded.elasticsearch-home",
            "target/elasticsearch-9.2.4"));
    /** Order ids of the enrichment-alone stage, apart from those PostgreSQL gets, so no stage counts another's. */
    private static final int ENRICHMENT_ALONE_IDS = 100_000_000;
    private static final String ENRICHMENT_ALONE_TOPIC = "bench.enrichment_alone";
    private static final String OFF = "direct:bench-off-";
    private static final int COPY_ROWS_PER_TRANSACTION = 10_000;

    private final int customers = Integer.getInteger("bench.customers", 10_000);
    private final int orders = Integer.getInteger("bench.orders", 200_000);
    private final int latencySeconds = Integer.getInteger("bench.latency-seconds", 60);
    private final int latencyRate = Integer.getInteger("bench.latency-rate", 2_000);
    private final int memoryCustomers = Integer.getInteger("bench.memory-customers", 100_000);
    /** all: every stage (a to f); scale: only the cost that may grow with history (g: heap per live order, a restart). */
    private final String mode = System.getProperty("bench.mode", "all");
    /** scale mode with the product-sales stage off: the heap the rest of the pipeline takes per order, for comparison. */
    private final boolean productSales = !Boolean.getBoolean("bench.no-product-sales");
    private final Path output = Path.of(System.getProperty("bench.output", "target/benchmark.json"));
    /** json, or avro: every topic in Confluent's Avro wire format, the schemas in an embedded registry of its own. */
    private final String format = System.getProperty("bench.format", "json");
    /** scale mode: a folder to write heap dumps (live objects) of the pipeline's process to (idle, half and all loaded); none if unset. */
    private final String heapDumps = System.getProperty("bench.heap-dumps", "");
    /** scale mode: the production jar, run as the pipeline's own process. */
    private final Path jar = Path.of(System.getProperty("etl.jar", "target/camel-streaming-etl-1.0.0-SNAPSHOT.jar"));
    /** scale mode: the pipeline process's JVM options (bench.jvm-args are this JVM's: the broker's and the load generator's). */
    private final List<String> instanceJvmArgs = List.of(System.getProperty("bench.instance-jvm-args", "-Xmx1g").trim().split("\\s+"));

    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<String, Object> results = new LinkedHashMap<>();
    private final List<String[]> table = new ArrayList<>();
    private Path dataDir;
    private EmbeddedServices services;
    private EmbeddedSchemaRegistry registry;
    private String jdbcUrl;
    private String kafka;
    private String elasticsearch;
    private int batchSize;
    /** scale mode: the pipeline's process running now, if any. */
    private PipelineProcess instance;
    private int instanceStarts;

    public static void main(String[] args) {
        int status = 0;
        try {
            new PipelineBenchmark().run();
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status); // the embedded Kafka broker leaves non-daemon threads behind
    }

    private void run() throws Exception {
        if (customers < 1 || orders < 1 || latencySeconds < 1 || latencyRate < 100) {
            throw new IllegalArgumentException("bench.customers, bench.orders, bench.latency-seconds >= 1, bench.latency-rate >= 100");
        }
        results.put("machine", machine("start"));
        results.put("sizes", ordered("mode", mode, "format", format, "customers", customers, "orders", orders, "latency_seconds", latencySeconds,
                "latency_rate", latencyRate, "memory_customers", memoryCustomers));
        dataDir = Path.of("target", "benchmark", "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")))
                .toAbsolutePath();
        Files.createDirectories(dataDir);
        // Elasticsearch runs as 'nobody' when this runs as root: it must be able to enter the folders
        for (Path dir = dataDir; dir != null && dir.startsWith(Path.of("").toAbsolutePath()); dir = dir.getParent()) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        log("data in %s; %,d customers, %,d orders, latency %d s at %,d orders/s", dataDir, customers, orders,
                latencySeconds, latencyRate);
        services = EmbeddedServices.start(new EmbeddedSettings(dataDir, 0, 0, 0, ELASTICSEARCH_HOME,
                List.of(Path.of("sql/create_table.sql")), true, true, true));
        try {
            jdbcUrl = services.postgres().orElseThrow().jdbcUrl();
            kafka = services.kafka().orElseThrow().bootstrapServers();
            elasticsearch = services.elasticsearch().orElseThrow().url();
            Path postmasterPid = dataDir.resolve("postgres/pgdata/postmaster.pid");
            CpuTimes.postmaster = Long.parseLong(Files.readAllLines(postmasterPid).get(0).trim());

            if ("avro".equals(format)) {
                registry = EmbeddedSchemaRegistry.start(0, dataDir.resolve("schema-registry"), Path.of(System.getProperty(
                        "etl.embedded.schema-registry-home", EmbeddedSchemaRegistry.DEFAULT_HOME.toString())));
            }
            if ("scale".equals(mode)) {
                scale();
            } else {
                elasticsearchAlone();
                if (registry == null) {
                    enrichmentAlone();
                } else {
                    log("c. enrichment alone: skipped in avro (it puts JSON change records on the topics itself)");
                }
                double capture = captureAlone();
                wholePipelineLatencyAndMemory(capture);
            }
        } finally {
            if (registry != null) {
                registry.close();
            }
            services.close();
        }
        if (!Boolean.getBoolean("bench.keep-data")) { // a default run leaves some 2 GB of server data behind
            try (var paths = Files.walk(dataDir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
        results.put("machine_end", machine("end"));
        print();
        Files.createDirectories(output.toAbsolutePath().getParent());
        Files.writeString(output, Json.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(results));
        log("figures written to %s", output.toAbsolutePath());
    }

    // ------------------------------------------------------------------------------------------------ stages

    /** b. Enriched documents, already built, through the pipeline's own bulk write: batches of etl.orders.batch-size. */
    private void elasticsearchAlone() throws Exception {
        log("b. Elasticsearch alone");
        Main pipeline = startPipeline(stagesOff("capture", "customers", "orders", "prospects", "product-sales"));
        try {
            batchSize = Integer.parseInt(pipeline.getCamelContext().resolvePropertyPlaceholders("{{etl.orders.batch-size}}"));
            List<List<EnrichedOrderChange>> batches = new ArrayList<>();
            for (int first = 1; first <= orders; first += batchSize) {
                List<EnrichedOrderChange> batch = new ArrayList<>(batchSize);
                for (int id = first; id < first + batchSize && id <= orders; id++) {
                    int customer = customerOf(id);
                    batch.add(new EnrichedOrder(id, price(id), product(id),
                            new Customer(customer, name(customer), age(customer), membership(customer)), id));
                }
                batches.add(batch);
            }
            ProducerTemplate template = pipeline.getCamelContext().createProducerTemplate();
            CpuTimes cpu = CpuTimes.now();
            long start = System.nanoTime();
            for (List<EnrichedOrderChange> batch : batches) {
                template.sendBody("direct:index-enriched-orders", batch);
            }
            long acked = System.nanoTime();
            Map<String, Object> cpuUsed = CpuTimes.now().since(cpu);
            await("all documents searchable", () -> count("enriched_orders", 1, orders) == orders);
            long searchable = System.nanoTime();
            double rate = orders / seconds(start, acked);
            results.put("b_elasticsearch_alone", ordered("documents", orders, "bulk_size", batchSize,
                    "seconds_to_last_ack", seconds(start, acked), "documents_per_second", round(rate),
                    "seconds_to_searchable", seconds(start, searchable), "cpu", cpuUsed));
            row("b", "Elasticsearch alone (bulk of " + batchSize + ", to last ack)", rate, "documents/s");
        } finally {
            pipeline.stop();
        }
        http.send(HttpRequest.newBuilder(URI.create(elasticsearch + "/enriched_orders")).DELETE().build(),
                HttpResponse.BodyHandlers.discarding());
    }

    /** c. Change records put on the customers and orders topics, through the join, to a topic of their own. */
    private void enrichmentAlone() throws Exception {
        log("c. enrichment alone: writing %,d customers and %,d orders to the change topics", customers, orders);
        produceChanges();
        Map<String, String> settings = stagesOff("capture", "prospects", "product-sales");
        settings.put("etl.load.elasticsearch", "log:bench-elasticsearch-off?level=OFF");
        settings.put("etl.load.kafka", "kafka:" + ENRICHMENT_ALONE_TOPIC);
        settings.put("etl.kafka.topic.bench-enrichment-alone", ENRICHMENT_ALONE_TOPIC + " partitions=3");
        Main pipeline = startPipeline(settings);
        try {
            CamelContext camel = pipeline.getCamelContext();
            await("the order enrichment to start", () -> camel.getRouteController().getRouteStatus("order-enrichment")
                    == ServiceStatus.Started);
            CpuTimes cpu = CpuTimes.now();
            long start = System.nanoTime();
            await("all enriched records on " + ENRICHMENT_ALONE_TOPIC, () -> recordsOn(ENRICHMENT_ALONE_TOPIC) >= orders);
            long end = System.nanoTime();
            double rate = orders / seconds(start, end);
            results.put("c_enrichment_alone", ordered("records", orders, "seconds", seconds(start, end),
                    "records_per_second", round(rate), "cpu", CpuTimes.now().since(cpu)));
            row("c", "Enrichment alone (orders topic -> join -> topic)", rate, "records/s");
        } finally {
            pipeline.stop();
        }
    }

    /** a. Debezium streaming the rows of a bulk load into a counting endpoint; every other stage off. */
    private double captureAlone() throws Exception {
        log("a. capture alone");
        CaptureCounter counter = new CaptureCounter();
        Map<String, String> settings = stagesOff("customers", "orders", "prospects", "product-sales");
        settings.put("etl.capture.sink", "bean:benchCaptureCounter?method=count");
        settings.put("camel.component.debezium-postgres.slot-name", "bench_capture_alone");
        settings.put("camel.component.debezium-postgres.offset-storage-file-name",
                dataDir.resolve("state/capture-alone-offsets.dat").toString());
        Main pipeline = newPipeline(settings);
        pipeline.bind("benchCaptureCounter", counter);
        pipeline.start();
        long start;
        double loadSeconds;
        try {
            awaitSlotActive("bench_capture_alone");
            CpuTimes cpu = CpuTimes.now();
            start = System.nanoTime();
            loadSeconds = load();
            long events = (long) customers + orders;
            await("all changes captured", () -> counter.count() >= events);
            double rate = events / seconds(start, counter.lastNanos());
            results.put("a_capture_alone", ordered("events", events, "seconds", seconds(start, counter.lastNanos()),
                    "events_per_second", round(rate), "load_seconds", round(loadSeconds), "cpu", CpuTimes.now().since(cpu)));
            row("a", "Capture alone (Debezium -> no-op endpoint, streaming)", rate, "events/s");
            return rate;
        } finally {
            pipeline.stop();
            dropSlot("bench_capture_alone");
        }
    }

    /** d, e and f on one running pipeline: a bulk load end to end, then a steady rate, then the customer table's heap. */
    private void wholePipelineLatencyAndMemory(double captureRate) throws Exception {
        log("d. whole pipeline");
        sql("TRUNCATE customers, orders");
        Main pipeline = startPipeline(new LinkedHashMap<>());
        try {
            CamelContext camel = pipeline.getCamelContext();
            awaitSlotActive(camel.resolvePropertyPlaceholders("{{camel.component.debezium-postgres.slot-name}}"));
            await("the order enrichment to start", () -> camel.getRouteController().getRouteStatus("order-enrichment")
                    == ServiceStatus.Started);
            CpuTimes cpu = CpuTimes.now();
            long start = System.nanoTime();
            load();
            await("all orders searchable", () -> count("enriched_orders", 1, orders) >= orders);
            long end = System.nanoTime();
            Map<String, Object> cpuUsed = CpuTimes.now().since(cpu);
            double rate = orders / seconds(start, end);
            Map<?, ?> es = (Map<?, ?>) results.get("b_elasticsearch_alone");
            double bound = Math.min(captureRate, ((Number) es.get("documents_per_second")).doubleValue());
            results.put("d_whole_pipeline", ordered("orders", orders, "customers", customers, "seconds", seconds(start, end),
                    "orders_per_second", round(rate), "min_of_a_and_b", round(bound), "ratio_to_min_of_a_and_b",
                    Math.round(rate / bound * 100) / 100.0, "cpu", cpuUsed));
            row("d", "Whole pipeline (first commit -> last searchable)", rate, "orders/s");
            row("d/min(a,b)", "Ratio to min(a, b) (target >= 0.8)", rate / bound, "");

            latency(pipeline);
            memory(pipeline);
        } finally {
            pipeline.stop();
        }
    }

    /**
     * g. What grows with history, on the whole pipeline run as in production: the production jar in a process of its
     * own (the Kafka broker and this load generator apart, in this JVM). The heap each live order costs the instance
     * (its live objects after a full GC, {@code jcmd GC.class_histogram}, the pipeline started and idle, then with
     * {@code bench.orders} orders loaded, searchable and counted in product sales: the customer table's growth included;
     * loaded in two halves, so that the growth over the second half, per order, says what a further order costs once the
     * bounded pools the first orders fill are full), and a restart on that history: the process stopped (SIGTERM), a new
     * order inserted, the process started again; the seconds from the start (the JVM's start included) to that order
     * searchable, and to every product's sales right (the {@code product_sales} index equal to SQL's count per product).
     */
    private void scale() throws Exception {
        log("g. scale: %,d customers, %,d orders, then a restart; the pipeline: java %s -jar %s%s", customers, orders,
                String.join(" ", instanceJvmArgs), jar, productSales ? "" : "; product sales off");
        Map<String, String> settings = productSales ? new LinkedHashMap<>() : stagesOff("product-sales");
        try {
            long firstStart = System.nanoTime();
            startInstance(settings);
            awaitInstance("the order enrichment to start", () -> instance.routeStarted("order-enrichment"), 180);
            long firstRunning = System.nanoTime();
            Path idleClasses = heapByClass("idle");
            long idle = liveBytes(idleClasses);
            heapDump("idle");
            // in two halves: the growth over the second half is what each further order costs, once the pools and
            // reservoirs that the first orders fill up (bounded, whatever the history) are full
            int half = orders / 2;
            CpuTimes cpu = CpuTimes.now();
            long start = System.nanoTime();
            load(true, 1, half);
            awaitInstance("the first half of the orders searchable", () -> count("enriched_orders", 1, half) >= half);
            long halfSearchable = System.nanoTime();
            awaitInstance("product sales right", () -> !productSales || productSalesRight());
            long halfCounted = System.nanoTime();
            Path halfClasses = heapByClass("half");
            long halfLoaded = liveBytes(halfClasses);
            heapDump("half");
            long second = System.nanoTime();
            load(false, half + 1, orders);
            awaitInstance("all orders searchable", () -> count("enriched_orders", 1, orders) >= orders);
            long searchable = System.nanoTime();
            awaitInstance("product sales right", () -> !productSales || productSalesRight());
            long counted = System.nanoTime();
            Map<String, Object> cpuUsed = CpuTimes.now().since(cpu);
            Path loadedClasses = heapByClass("loaded");
            long loaded = liveBytes(loadedClasses);
            double perOrder = (double) (loaded - idle) / orders;
            double perFurtherOrder = (double) (loaded - halfLoaded) / (orders - half);
            Map<String, Object> grown = perOrderGrowth(idleClasses, loadedClasses, orders);
            Map<String, Object> grownFurther = perOrderGrowth(halfClasses, loadedClasses, orders - half);
            heapDump("loaded");
            log("heap growth per further order (second half) by class (the largest): %s", grownFurther);
            log("heap growth per live order by class (the largest): %s", grown);
            instance.stop();

            int newOrder = orders + 1;
            sql("INSERT INTO orders VALUES (" + newOrder + ", " + customerOf(newOrder) + ", " + price(newOrder).toPlainString()
                    + ", '" + product(newOrder) + "')");
            long restart = System.nanoTime();
            startInstance(settings);
            // the JVM's and Camel's start, and the customer table caught up: the order enrichment starts after them
            awaitInstance("the order enrichment to start after the restart", () -> instance.routeStarted("order-enrichment"));
            long running = System.nanoTime();
            awaitInstance("the new order searchable after the restart", () -> count("enriched_orders", newOrder, newOrder) == 1);
            long newSearchable = System.nanoTime();
            awaitInstance("product sales right after the restart", () -> !productSales || productSalesRight());
            long salesRight = System.nanoTime();

            results.put("g_scale", ordered("orders", orders, "customers", customers, "product_sales", productSales,
                    "pipeline", "java " + String.join(" ", instanceJvmArgs) + " -jar " + jar.getFileName(),
                    "seconds_to_all_searchable", round(seconds(start, halfSearchable) + seconds(second, searchable)),
                    "seconds_to_product_sales_right", round(seconds(start, halfCounted) + seconds(second, counted)),
                    "heap_idle_bytes", idle, "heap_half_loaded_bytes", halfLoaded, "heap_loaded_bytes", loaded,
                    "heap_bytes_per_live_order", round(perOrder), "heap_bytes_per_live_order_by_class", grown,
                    "heap_bytes_per_further_order", round(perFurtherOrder),
                    "heap_bytes_per_further_order_by_class", grownFurther,
                    "start_seconds_to_running", round(seconds(firstStart, firstRunning)),
                    "restart_seconds_to_running", round(seconds(restart, running)),
                    "restart_seconds_to_new_order_searchable", round(seconds(restart, newSearchable)),
                    "restart_seconds_to_product_sales_right", round(seconds(restart, salesRight)),
                    "measured", "the pipeline as the production jar in a process of its own (the Kafka broker in the"
                            + " benchmark's JVM); heap: its live objects after a full GC (jcmd GC.class_histogram), idle"
                            + " vs all orders loaded and counted (customer table included), loaded in two halves; per"
                            + " further order: the growth over the second half; seconds: both halves, without the"
                            + " measurement between them; start and restart: the process started (JVM start included) ->"
                            + " the order enrichment route started (Jolokia) / a search finds the order / product_sales"
                            + " equals SQL",
                    "cpu", cpuUsed));
            row("g heap", "Heap growth per live order, pipeline process (target < 10)", perOrder, "bytes");
            row("g heap 2nd", "Heap growth per further order (the second half's), pipeline process", perFurtherOrder, "bytes");
            row("g start", "Start, no history (JVM start included) -> order enrichment running", seconds(firstStart, firstRunning), "s");
            row("g running", "Restart (JVM start included) -> order enrichment running", seconds(restart, running), "s");
            row("g search", "Restart (JVM start included) -> a new order searchable (target <= 15 s)",
                    seconds(restart, newSearchable), "s");
            row("g sales", "Restart (JVM start included) -> product sales right (target <= 30 s)",
                    seconds(restart, salesRight), "s");
        } finally {
            if (instance != null) {
                instance.stop();
            }
        }
    }

    /** Starts the pipeline's process (scale mode) on the benchmark's servers, logging to instance-N.log in the data folder. */
    private void startInstance(Map<String, String> settings) throws IOException {
        instanceStarts++;
        instance = PipelineProcess.start(jar, instanceJvmArgs, pipelineProperties(settings), dataDir.resolve("instance"),
                dataDir.resolve("instance-" + instanceStarts + ".log"));
        CpuTimes.pipelineProcess = instance.pid();
        log("pipeline process %d started (log: instance-%d.log)", instance.pid(), instanceStarts);
    }

    /** Awaits the condition; fails at once, with the end of its log, if the pipeline's process has ended. */
    private void awaitInstance(String what, BooleanSupplier condition) {
        awaitInstance(what, condition, 120 + (customers + (long) orders) / 500);
    }

    private void awaitInstance(String what, BooleanSupplier condition, long limitSeconds) {
        await(what, () -> {
            instance.checkAlive();
            return condition.getAsBoolean();
        }, limitSeconds);
    }

    /** Writes a dump of the pipeline process's live objects to {@code bench.heap-dumps}/scale-NAME.hprof, if that is set. */
    private void heapDump(String name) throws IOException, InterruptedException {
        if (heapDumps.isEmpty()) {
            return;
        }
        Path file = Path.of(heapDumps, "scale-" + name + ".hprof").toAbsolutePath();
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(file);
        instance.jcmd(dataDir.resolve("heap-dump-" + name + ".txt"), Duration.ofMinutes(5), "GC.heap_dump", file.toString());
        log("heap dump: %s (%,d bytes)", file, Files.size(file));
    }

    /**
     * The pipeline process's class histogram of live objects ({@code jcmd GC.class_histogram}: a full GC first), written to
     * a file in the data folder.
     */
    private Path heapByClass(String name) throws IOException, InterruptedException {
        Path file = dataDir.resolve("class-histogram-" + name + ".txt");
        instance.jcmd(file, Duration.ofMinutes(2), "GC.class_histogram");
        return file;
    }

    /** The live bytes of a histogram {@link #heapByClass} wrote: its Total line. */
    private static long liveBytes(Path histogram) throws IOException {
        for (String line : Files.readAllLines(histogram)) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length == 3 && fields[0].equals("Total")) {
                return Long.parseLong(fields[2]);
            }
        }
        throw new IllegalStateException("no Total line in " + histogram);
    }

    /** Bytes of live objects per class, from a histogram {@link #heapByClass} wrote; empty if unavailable. */
    private static Map<String, Long> readHistogram(Path file) {
        Map<String, Long> bytes = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length >= 4 && fields[0].endsWith(":")) {
                    bytes.put(fields[3], Long.parseLong(fields[2]));
                }
            }
        } catch (IOException | RuntimeException e) {
            log("no class histogram: %s", e);
        }
        return bytes;
    }

    /** The classes whose live bytes grew most between two histograms, as bytes per live order. */
    private static Map<String, Object> perOrderGrowth(Path beforeFile, Path afterFile, int orders) {
        Map<String, Long> before = readHistogram(beforeFile);
        Map<String, Long> after = readHistogram(afterFile);
        Map<String, Object> growth = new LinkedHashMap<>();
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .limit(12)
                .forEach(e -> growth.put(e.getKey(), round((double) e.getValue() / orders)));
        return growth;
    }

    /** Whether every product's document in the product_sales index has SQL's count of its orders (0 where SQL has none). */
    private boolean productSalesRight() {
        try {
            Map<String, Long> expected = new java.util.TreeMap<>();
            try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres"); Statement sql = db.createStatement();
                 ResultSet rows = sql.executeQuery("SELECT product_code, count(*) FROM orders GROUP BY product_code")) {
                while (rows.next()) {
                    expected.put(rows.getString(1), rows.getLong(2));
                }
            }
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(elasticsearch
                    + "/product_sales/_search?size=10000")).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                return false;
            }
            Map<String, Long> indexed = new java.util.TreeMap<>();
            for (JsonNode hit : Json.read(response.body(), JsonNode.class).path("hits").path("hits")) {
                long count = hit.path("_source").path("order_count").asLong();
                if (count != 0) {
                    indexed.put(hit.path("_id").asText(), count);
                }
            }
            return expected.equals(indexed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            return false; // not there yet
        }
    }

    /**
     * e. Orders inserted at a steady rate, 1/100 of a second's worth per transaction; each order's commit time is the
     * moment its transaction's commit returned, and its searchable time the moment a search that finds it returned.
     * Apart from that, the pipeline's own lag meter says how much of it was spent before Elasticsearch acknowledged the
     * order (from the commit in PostgreSQL), the rest being the wait for the index's refresh and for the next search.
     */
    private void latency(Main pipeline) throws Exception {
        log("e. latency: %,d orders/s for %d s", latencyRate, latencySeconds);
        int total = latencyRate * latencySeconds;
        int perTransaction = Math.max(1, latencyRate / 100);
        int firstId = orders + 1;
        long[] committedAt = new long[total];
        long[] seenAt = new long[total];
        AtomicLong committed = new AtomicLong();
        Thread writer = new Thread(() -> {
            try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
                 PreparedStatement insert = db.prepareStatement("INSERT INTO orders VALUES (?, ?, ?, ?)")) {
                db.setAutoCommit(false);
                long begin = System.nanoTime();
                for (int i = 0; i < total; i += perTransaction) {
                    long due = begin + (long) i * 1_000_000_000L / latencyRate;
                    while (System.nanoTime() < due) {
                        Thread.onSpinWait();
                        if (due - System.nanoTime() > 2_000_000) {
                            Thread.sleep(1); // a load generator's pacing, not a wait for a result
                        }
                    }
                    int end = Math.min(total, i + perTransaction);
                    for (int k = i; k < end; k++) {
                        int id = firstId + k;
                        insert.setInt(1, id);
                        insert.setInt(2, customerOf(id));
                        insert.setBigDecimal(3, price(id));
                        insert.setString(4, product(id));
                        insert.addBatch();
                    }
                    insert.executeBatch();
                    db.commit();
                    long now = System.nanoTime();
                    for (int k = i; k < end; k++) {
                        committedAt[k] = now;
                    }
                    committed.set(end);
                }
            } catch (Exception e) {
                throw new IllegalStateException("load generator failed", e);
            }
        }, "bench-load-generator");
        Timer lag = PipelineBeans.of(pipeline.getCamelContext(), PipelineBeans.METRICS, PipelineMetrics.class).registry()
                .get(PipelineMetrics.LAG).timer();
        HistogramSnapshot lagBefore = lag.takeSnapshot();
        CpuTimes cpu = CpuTimes.now();
        long start = System.nanoTime();
        writer.start();
        int seen = 0;
        int lowestUnseen = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(latencySeconds + 120L);
        while (seen < total) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("latency: only " + seen + " of " + total + " orders searchable");
            }
            long pollStart = System.nanoTime();
            JsonNode hits = search("{\"query\":{\"range\":{\"order_id\":{\"gte\":" + (firstId + lowestUnseen) + ",\"lt\":"
                    + (firstId + total) + "}}},\"_source\":false,\"size\":10000,\"track_total_hits\":false,"
                    + "\"sort\":[{\"order_id\":\"asc\"}]}");
            long now = System.nanoTime();
            for (JsonNode hit : hits) {
                int k = Integer.parseInt(hit.get("_id").asText()) - firstId;
                if (k >= 0 && k < total && seenAt[k] == 0 && committedAt[k] != 0) {
                    seenAt[k] = now;
                    seen++;
                }
            }
            while (lowestUnseen < total && seenAt[lowestUnseen] != 0) {
                lowestUnseen++;
            }
            long pause = 50 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pollStart);
            if (pause > 0) {
                Thread.sleep(pause); // the poll interval of the searchable check
            }
        }
        writer.join();
        Map<String, Object> cpuUsed = CpuTimes.now().since(cpu);
        long writeEnd = committedAt[total - 1];
        double[] latencies = new double[total];
        for (int k = 0; k < total; k++) {
            latencies[k] = (seenAt[k] - committedAt[k]) / 1e6;
        }
        Arrays.sort(latencies);
        double achieved = total / seconds(start, writeEnd);
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("orders", total);
        figures.put("target_rate", latencyRate);
        figures.put("achieved_rate", round(achieved));
        figures.put("orders_per_transaction", perTransaction);
        figures.put("p50_ms", round(percentile(latencies, 50)));
        figures.put("p95_ms", round(percentile(latencies, 95)));
        figures.put("p99_ms", round(percentile(latencies, 99)));
        figures.put("max_ms", round(latencies[total - 1]));
        figures.put("poll_interval_ms", 50);
        figures.put("measured", "commit returned in the load generator -> a search that finds the order returned");
        Map<String, Object> indexedWithin = indexedWithin(lagBefore, lag.takeSnapshot());
        figures.put("indexed_within_seconds", indexedWithin);
        figures.put("cpu", cpuUsed);
        results.put("e_latency", figures);
        row("e p50", "Latency commit -> searchable at " + Math.round(achieved) + " orders/s", percentile(latencies, 50), "ms");
        row("e p95", "", percentile(latencies, 95), "ms");
        row("e p99", "(target <= 1000 ms)", percentile(latencies, 99), "ms");
        log("e: orders in Elasticsearch (acknowledged, not yet searchable) within so many seconds of their commit in"
            + " PostgreSQL, the pipeline's lag meter: %s", indexedWithin);
    }

    /**
     * The share of the order changes that reached Elasticsearch within each bucket of the pipeline's lag meter, between
     * two of its snapshots (its buckets count cumulatively).
     */
    private static Map<String, Object> indexedWithin(HistogramSnapshot before, HistogramSnapshot after) {
        Map<String, Object> shares = new LinkedHashMap<>();
        double total = after.count() - before.count();
        CountAtBucket[] from = before.histogramCounts();
        CountAtBucket[] to = after.histogramCounts();
        for (int i = 0; i < to.length && total > 0; i++) {
            double within = to[i].count() - from[i].count();
            shares.put(to[i].bucket(TimeUnit.SECONDS) + " s", Math.round(within / total * 1000) / 10.0 + "%");
        }
        return shares;
    }

    /**
     * f. The heap the customer table holds: used heap after a full GC with the table emptied, then filled with
     * {@code bench.memory-customers} customers (100,000 by default) made the way the customer-table route makes them
     * (parsed from change records, put under an Integer key), through the table's own endpoint.
     */
    private void memory(Main pipeline) throws Exception {
        int count = memoryCustomers;
        log("f. memory of the customer table: %,d customers", count);
        CamelContext camel = pipeline.getCamelContext();
        camel.getRouteController().stopRoute("customer-table"); // nothing else writes to the table meanwhile
        ProducerTemplate template = camel.createProducerTemplate();
        String table = camel.resolvePropertyPlaceholders("{{etl.customers.table}}");
        template.send(table, exchange -> exchange.getMessage().setHeader(CaffeineConstants.ACTION,
                CaffeineConstants.ACTION_INVALIDATE_ALL));
        long empty = usedHeapAfterGc();
        for (int id = 1; id <= count; id++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", id);
            row.put("name", name(id));
            row.put("age", age(id));
            row.put("membership", membership(id));
            Customer customer = ChangeEvent.parse(change(row, "customers", 0), Customer.class).after();
            template.sendBodyAndHeaders(table, customer, Map.of(CaffeineConstants.ACTION, CaffeineConstants.ACTION_PUT,
                    CaffeineConstants.KEY, customer.id()));
        }
        long full = usedHeapAfterGc();
        double perCustomer = (double) (full - empty) / count;
        double per100k = perCustomer * 100_000 / (1 << 20);
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("customers", count);
        figures.put("heap_without_table_bytes", empty);
        figures.put("heap_with_table_bytes", full);
        figures.put("bytes_per_customer", round(perCustomer));
        figures.put("mb_per_100000_customers", round(per100k));
        figures.put("mb_for_1000000_customers", round(per100k * 10));
        results.put("f_memory", figures);
        row("f", "Heap per 100,000 customers in the table (target <= 20; 1M: " + Math.round(per100k * 10) + " MB)",
                per100k, "MB");
    }

    // ------------------------------------------------------------------------------------------------ the data

    private int customerOf(int orderId) {
        return 1 + (int) ((orderId * 7919L) % customers);
    }

    private static BigDecimal price(int orderId) {
        return BigDecimal.valueOf(100 + (orderId * 31L) % 90_000, 2);
    }

    private static String product(int orderId) {
        return "P-" + (orderId % 100);
    }

    private static String name(int customer) {
        return "Customer " + customer;
    }

    private static Integer age(int customer) {
        return 18 + customer % 60;
    }

    private static String membership(int customer) {
        return customer % 5 == 0 ? "premium" : "standard";
    }

    /** Loads the customers, then the orders, with COPY, a transaction per 10,000 rows; returns the seconds it took. */
    private double load() throws Exception {
        return load(true, 1, orders);
    }

    /** Loads the customers (if {@code withCustomers}) and the orders {@code firstOrder} to {@code lastOrder} with COPY. */
    private double load(boolean withCustomers, int firstOrder, int lastOrder) throws Exception {
        long start = System.nanoTime();
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres")) {
            CopyManager copy = new CopyManager(db.unwrap(BaseConnection.class));
            for (int first = 1; withCustomers && first <= customers; first += COPY_ROWS_PER_TRANSACTION) {
                StringBuilder rows = new StringBuilder();
                for (int id = first; id < first + COPY_ROWS_PER_TRANSACTION && id <= customers; id++) {
                    rows.append(id).append('\t').append(name(id)).append('\t').append(age(id)).append('\t')
                            .append(membership(id)).append('\n');
                }
                copy.copyIn("COPY customers (id, name, age, membership) FROM STDIN", new StringReader(rows.toString()));
            }
            for (int first = firstOrder; first <= lastOrder; first += COPY_ROWS_PER_TRANSACTION) {
                StringBuilder rows = new StringBuilder();
                for (int id = first; id < first + COPY_ROWS_PER_TRANSACTION && id <= lastOrder; id++) {
                    rows.append(id).append('\t').append(customerOf(id)).append('\t').append(price(id).toPlainString())
                            .append('\t').append(product(id)).append('\n');
                }
                copy.copyIn("COPY orders (order_id, customer_id, price, product_code) FROM STDIN", new StringReader(rows.toString()));
            }
        }
        double seconds = seconds(start, System.nanoTime());
        log("loaded %,d customers and %,d orders into PostgreSQL in %.2f s", withCustomers ? customers : 0,
                lastOrder - firstOrder + 1, seconds);
        return seconds;
    }

    /** The change records the capture stage would write, straight onto the change topics. */
    private void produceChanges() throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka);
        config.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            for (int id = 1; id <= customers; id++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", id);
                row.put("name", name(id));
                row.put("age", age(id));
                row.put("membership", membership(id));
                producer.send(new ProducerRecord<>("postgres.public.customers", "{\"id\":" + id + "}", change(row, "customers", now)));
            }
            for (int i = 1; i <= orders; i++) {
                int id = ENRICHMENT_ALONE_IDS + i;
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("order_id", id);
                row.put("customer_id", customerOf(i));
                row.put("price", price(i));
                row.put("product_code", product(i));
                producer.send(new ProducerRecord<>("postgres.public.orders", "{\"order_id\":" + id + "}", change(row, "orders", now)));
            }
            producer.flush();
        }
    }

    /** The position in the source of the changes the benchmark makes up: each after the one before. */
    private static final java.util.concurrent.atomic.AtomicLong LSN = new java.util.concurrent.atomic.AtomicLong();

    private static String change(Map<String, Object> row, String table, long now) {
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("ts_ms", now);
        source.put("table", table);
        source.put("lsn", LSN.incrementAndGet());
        return Json.write(new ChangeEvent<>(null, row, source, "c", now));
    }

    // ------------------------------------------------------------------------------------------------ the pipeline

    /** Properties that switch the given stages' sources off (a direct: endpoint nothing sends to). */
    private static Map<String, String> stagesOff(String... stages) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String stage : stages) {
            settings.put("etl." + stage + ".source", OFF + stage);
        }
        return settings;
    }

    /** The pipeline's properties on the benchmark's servers, with the given settings on top. */
    private Map<String, String> pipelineProperties(Map<String, String> settings) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("etl.embedded.enabled", "false");
        properties.put("etl.embedded.data-dir", dataDir.toString());
        properties.put("etl.postgres.port", String.valueOf(services.postgres().orElseThrow().port()));
        properties.put("etl.kafka.brokers", kafka);
        properties.put("etl.elasticsearch.url", services.elasticsearch().orElseThrow().url());
        if (registry != null) {
            properties.put("etl.format", "avro");
            properties.put("etl.schema-registry.url", registry.url());
        }
        properties.putAll(settings);
        return properties;
    }

    /** The pipeline in this JVM (stages a to f), on the benchmark's servers. */
    private Main newPipeline(Map<String, String> settings) {
        Main pipeline = new Main(App.class);
        pipelineProperties(settings).forEach(pipeline::addOverrideProperty);
        return pipeline;
    }

    private Main startPipeline(Map<String, String> settings) throws Exception {
        Main pipeline = newPipeline(settings);
        pipeline.start();
        return pipeline;
    }

    /** Counts what the capture stage sends to its sink, and when the last one came. */
    public static final class CaptureCounter {
        private final AtomicLong count = new AtomicLong();
        private volatile long lastNanos;

        public void count(Exchange exchange) {
            count.incrementAndGet();
            lastNanos = System.nanoTime();
        }

        long count() {
            return count.get();
        }

        long lastNanos() {
            return lastNanos;
        }
    }

    // ------------------------------------------------------------------------------------------------ the servers

    private void sql(String statement) throws Exception {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres"); Statement sql = db.createStatement()) {
            sql.execute(statement);
        }
    }

    private boolean slotActive(String slot) throws Exception {
        try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
             PreparedStatement query = db.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            query.setString(1, slot);
            try (ResultSet row = query.executeQuery()) {
                return row.next() && row.getBoolean(1);
            }
        }
    }

    private void awaitSlotActive(String slot) {
        await("Debezium streaming from slot " + slot, () -> {
            try {
                return slotActive(slot);
            } catch (Exception e) {
                return false;
            }
        });
    }

    private void dropSlot(String slot) throws Exception {
        await("slot " + slot + " released", () -> {
            try {
                return !slotActive(slot);
            } catch (Exception e) {
                return false;
            }
        });
        sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    }

    /** Records on a topic: the sum of its partitions' end offsets. */
    private long recordsOn(String topic) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            List<TopicPartition> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, OffsetSpec> latest = new ConcurrentHashMap<>();
            partitions.forEach(p -> latest.put(p, OffsetSpec.latest()));
            return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).values().stream()
                    .mapToLong(info -> info.offset()).sum();
        } catch (Exception e) {
            return 0; // not there yet
        }
    }

    /** Searchable documents of an index with an order id in [from, to]; no refresh is forced. */
    private long count(String index, int from, int to) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(elasticsearch + "/" + index + "/_count"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"query\":{\"range\":{\"order_id\":{\"gte\":" + from
                            + ",\"lte\":" + to + "}}}}")).build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? Json.read(response.body(), JsonNode.class).path("count").asLong() : 0;
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private JsonNode search(String query) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(elasticsearch + "/enriched_orders/_search"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(query)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? Json.read(response.body(), JsonNode.class).path("hits").path("hits")
                : Json.MAPPER.createArrayNode();
    }

    /** Polls every 20 ms until the condition holds; gives up after a time that grows with the sizes. */
    private void await(String what, BooleanSupplier condition) {
        await(what, condition, 120 + (customers + (long) orders) / 500);
    }

    /** Polls every 20 ms until the condition holds; gives up after {@code limitSeconds}. */
    private static void await(String what, BooleanSupplier condition, long limitSeconds) {
        long limit = TimeUnit.SECONDS.toNanos(limitSeconds);
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > limit) {
                throw new IllegalStateException("Timed out waiting for " + what);
            }
            try {
                Thread.sleep(20); // a polling loop of the benchmark program
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ figures

    /**
     * CPU seconds used so far by this JVM (the Kafka broker, the load generator, and the pipeline in stages a to f), by the
     * pipeline's own process (scale mode), by Elasticsearch and by PostgreSQL (the processes that still run: a PostgreSQL
     * backend that has ended is not counted), and by the whole machine (busy time of every core, other people's work included).
     */
    private record CpuTimes(long nanos, double jvm, Double instance, double elasticsearch, double postgres, double machine) {

        /** The PostgreSQL server's process id. */
        static volatile Long postmaster;
        /** The pipeline's process (scale mode), a child of this JVM; null while the pipeline runs in this JVM. */
        static volatile Long pipelineProcess;

        static CpuTimes now() {
            double jvm = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime() / 1e9;
            Long instancePid = pipelineProcess;
            Double instanceSeconds = instancePid == null ? null : ProcessHandle.of(instancePid)
                    .flatMap(process -> process.info().totalCpuDuration()).map(d -> d.toNanos() / 1e9).orElse(0.0);
            double elasticsearch = 0;
            double postgres = 0;
            List<ProcessHandle> processes = new ArrayList<>(ProcessHandle.current().descendants()
                    .filter(process -> instancePid == null || process.pid() != instancePid).toList());
            if (postmaster != null) { // pg_ctl starts the server as a daemon: not a descendant of this JVM
                ProcessHandle.of(postmaster).ifPresent(server -> {
                    processes.add(server);
                    processes.addAll(server.descendants().toList());
                });
            }
            for (ProcessHandle process : processes) {
                double seconds = process.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
                String command = process.info().command().orElse("");
                if (command.contains("postgres")) {
                    postgres += seconds;
                } else if (command.endsWith("java")) {
                    elasticsearch += seconds;
                }
            }
            double machine = 0;
            try {
                String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long busy = 0;
                for (int i = 1; i < cpu.length && i <= 8; i++) {
                    busy += i == 4 || i == 5 ? 0 : Long.parseLong(cpu[i]); // not idle, not iowait
                }
                machine = busy / 100.0; // USER_HZ
            } catch (IOException | RuntimeException e) {
                // not Linux: no machine-wide figure
            }
            return new CpuTimes(System.nanoTime(), jvm, instanceSeconds, elasticsearch, postgres, machine);
        }

        /** CPU seconds used since {@code start}, and the wall-clock seconds. */
        Map<String, Object> since(CpuTimes start) {
            Map<String, Object> used = new LinkedHashMap<>();
            used.put("wall_seconds", round((nanos - start.nanos) / 1e9));
            used.put("jvm_cpu_seconds", round(jvm - start.jvm));
            if (instance != null && start.instance != null) { // the same process at both ends
                used.put("instance_cpu_seconds", round(instance - start.instance));
            }
            used.put("elasticsearch_cpu_seconds", round(elasticsearch - start.elasticsearch));
            used.put("postgres_cpu_seconds", round(postgres - start.postgres));
            used.put("machine_busy_cpu_seconds", round(machine - start.machine));
            used.put("machine_cores", Runtime.getRuntime().availableProcessors());
            return used;
        }
    }


    /**
     * The heap in use right after a full GC (System.gc()), the least of four: as the collector reports it once done
     * (G1's "Old Generation" collections), not read afterwards, when the idle pipeline's polling has allocated again
     * (a megabyte or more in 200 ms: as much as 20 bytes per order over 50,000 orders).
     */
    private static long usedHeapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(200); // let the collector and reference processing settle between two readings
            used = Math.min(used, heapAfterLastFullGc());
        }
        return used;
    }

    private static long heapAfterLastFullGc() {
        java.util.Set<String> heapPools = new java.util.HashSet<>();
        for (var pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                heapPools.add(pool.getName());
            }
        }
        for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof com.sun.management.GarbageCollectorMXBean full && gc.getName().contains("Old")
                    && full.getLastGcInfo() != null) {
                return full.getLastGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                        .filter(pool -> heapPools.contains(pool.getKey()))
                        .mapToLong(pool -> pool.getValue().getUsed()).sum();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(); // another collector: read now
    }

    private static Map<String, Object> machine(String when) {
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("time", Instant.now().toString());
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        machine.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        machine.put("load_average_1m", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        try {
            machine.put("loadavg", Files.readString(Path.of("/proc/loadavg")).trim());
        } catch (IOException e) {
            // not Linux: the JVM's figure above is all there is
        }
        log("machine at %s: %s", when, machine);
        return machine;
    }

    /** A map of the given keys and values, in that order (the JSON keeps it). */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static double percentile(double[] sorted, int percent) {
        int index = (int) Math.ceil(percent / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static double seconds(long startNanos, long endNanos) {
        return (endNanos - startNanos) / 1e9;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    private void row(String figure, String what, double value, String unit) {
        table.add(new String[] {figure, what, value >= 100 ? String.format("%,.0f", value) : String.format("%.2f", value), unit});
    }

    private void print() {
        StringBuilder out = new StringBuilder("\n");
        out.append(String.format("Benchmark (%s): %,d customers, %,d orders; latency %d s at %,d orders/s; %s%n", format,
                customers, orders, latencySeconds, latencyRate, results.get("machine")));
        out.append(String.format("%-11s %-72s %12s  %s%n", "figure", "what", "value", "unit"));
        for (String[] row : table) {
            out.append(String.format("%-11s %-72s %12s  %s%n", (Object[]) row));
        }
        out.append(String.format("%nCPU seconds used during each stage (jvm = the benchmark's: Kafka broker, load generator,"
                + " and the pipeline in a to f; instance = the pipeline's own process in g; machine = all %d cores,"
                + " other work included):%n", Runtime.getRuntime().availableProcessors()));
        StringBuilder perItem = new StringBuilder(String.format("%nCPU microseconds per item of each stage, per process"
                + " (a: change, b: document, c: record, d, e and g: order):%n"));
        for (String stage : List.of("a_capture_alone", "b_elasticsearch_alone", "c_enrichment_alone", "d_whole_pipeline",
                "e_latency", "g_scale")) {
            if (results.get(stage) instanceof Map<?, ?> figures && figures.get("cpu") instanceof Map<?, ?> cpu) {
                out.append(String.format("%-22s %s%n", stage, cpu));
                long items = Stream.of("events", "documents", "records", "orders").map(figures::get)
                        .filter(Number.class::isInstance).mapToLong(n -> ((Number) n).longValue()).findFirst().orElse(0);
                perItem.append(String.format("%-22s", stage));
                for (String process : List.of("jvm", "instance", "elasticsearch", "postgres", "machine_busy")) {
                    if (items > 0 && cpu.get(process + "_cpu_seconds") instanceof Number seconds) {
                        perItem.append(String.format("  %s %,.0f", process, seconds.doubleValue() * 1e6 / items));
                    }
                }
                perItem.append(System.lineSeparator());
            }
        }
        out.append(perItem);
        System.out.println(out);
    }

    private static void log(String format, Object... args) {
        System.out.println("[benchmark] " + String.format(format, args));
    }
}
