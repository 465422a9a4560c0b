package dev.streametl;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.camel.main.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Watching the pipeline on real PostgreSQL, Kafka and Elasticsearch: the management server (on a free port, with
 * basic authentication set by property) serves the pipeline's meters in Prometheus format, moving as orders flow,
 * and a health status that goes DOWN, naming Elasticsearch, while Elasticsearch is stopped, and UP once it is back;
 * the same for the capture: DOWN, naming PostgreSQL, while Debezium does not stream.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WatchItTest {

    private static final Logger LOG = LoggerFactory.getLogger(WatchItTest.class);
    private static final String PASSWORD = "watch-it-" + System.nanoTime();
    private static final String ENRICHMENT_GROUP = "etl-order-enrichment";

    @TempDir
    static Path tempDir;

    RealServices real;
    Main pipeline;
    String management;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void startServicesAndPipeline() throws Exception {
        real = RealServices.start(tempDir);
        int port = RealServices.freePort();
        management = "http://localhost:" + port;
        pipeline = real.startPipeline(Map.of("camel.management.port", String.valueOf(port),
                "etl.management.password", PASSWORD,
                "etl.enrich.customer-wait-ms", "500",
                "etl.health.capture-grace-ms", "1000",
                "etl.progress.interval-ms", "1000"));
    }

    @AfterAll
    void stop() {
        if (real != null) {
            real.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void managementServerAsksForTheCredentialsSetByProperty() throws Exception {
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(management + "/observe/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode());
        assertEquals(200, get("/observe/metrics").statusCode());
        assertEquals(200, get("/q/dev").statusCode(), "the developer console");
        assertTrue(get("/observe/jolokia/read/java.lang:type=Runtime/Name").body().contains("\"status\":200"),
                "Jolokia answers (Hawtio connects to it)");
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void metricsMoveWhileOrdersFlow() throws Exception {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> value(metrics(), "etl_orders_indexed_total") >= 50);
        // exact counts only once the enrichment's consumers have settled: a rebalance that moves a partition mid-batch
        // has its new owner enrich that batch again (at least once), which would count twice
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.groupIsSettled(ENRICHMENT_GROUP, 3));
        String before = settledMetrics();
        assertEquals(50, value(before, "etl_changes_captured_total{op=\"r\",table=\"orders\""), before);
        assertEquals(12, value(before, "etl_changes_captured_total{op=\"r\",table=\"customers\""), before);
        // at least once: a batch whose commit met the group's rebalance at start-up is enriched again (its count too);
        // from here on, the group settled, the counts move exactly
        assertTrue(value(before, "etl_orders_enriched_total") >= 50, before);
        assertTrue(value(before, "etl_end_to_end_lag_seconds_count") >= 50);
        assertTrue(value(before, "etl_elasticsearch_bulk_seconds_count{outcome=\"answered\",route=\"index-enriched-orders\"") >= 1,
                before);

        StringBuilder orders = new StringBuilder("INSERT INTO orders VALUES ");
        for (int id = 100; id < 120; id++) {
            orders.append(id == 100 ? "" : ", ").append("(").append(id).append(", ").append(1 + id % 12).append(", 10.00, 'PEN-05')");
        }
        real.sql(orders.toString(), "INSERT INTO orders VALUES (120, 999, 1.00, 'PEN-05')"); // 999: no such customer
        real.produce("postgres.public.orders", List.of(Map.entry("{\"order_id\":121}", "not json")));

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                .until(() -> value(metrics(), "etl_orders_unmatched_total") == 1
                             && value(metrics(), "etl_orders_indexed_total") >= value(before, "etl_orders_indexed_total") + 20);
        String after = settledMetrics();
        assertEquals(21, value(after, "etl_changes_captured_total{op=\"c\",table=\"orders\""), after);
        assertEquals(value(before, "etl_orders_enriched_total") + 20, value(after, "etl_orders_enriched_total"));
        assertEquals(1, value(after, "etl_dead_letters_total{route=\"enrich-order\""), after);
        assertTrue(value(after, "etl_end_to_end_lag_seconds_count") >= value(before, "etl_end_to_end_lag_seconds_count") + 20);
        double lag = value(after, "etl_end_to_end_lag_latest_seconds");
        assertTrue(lag > 0 && lag < 30, "the lag of a streamed order is seconds at most: " + lag);
        assertTrue(value(after, "etl_elasticsearch_bulk_seconds_count{outcome=\"answered\",route=\"index-enriched-orders\"")
                   > value(before, "etl_elasticsearch_bulk_seconds_count{outcome=\"answered\",route=\"index-enriched-orders\""));
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void healthIsDownWhileElasticsearchIsStoppedAndUpOnceItIsBack() throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> get("/observe/health").statusCode() == 200);
        long upMillis = timed("/observe/health");

        real.stopElasticsearch();
        HttpResponse<String> down = get("/observe/health");
        assertEquals(503, down.statusCode(), down.body());
        assertTrue(down.body().contains("\"status\":\"DOWN\""), down.body());
        Matcher check = Pattern.compile("\\{[^{}]*\"name\":\"elasticsearch\"[^{}]*}").matcher(down.body());
        assertTrue(check.find(), "the failing check is named: " + down.body());
        assertTrue(check.group().contains("\"status\":\"DOWN\"") && check.group().contains("cannot be reached"), check.group());
        assertEquals(200, get("/observe/health/live").statusCode(), "a restart would not bring Elasticsearch back");
        LOG.info("Health while Elasticsearch is down: {}", down.body());
        long downMillis = timed("/observe/health");

        real.startElasticsearchAgain();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> get("/observe/health").statusCode() == 200);
        assertTrue(get("/observe/health").body().contains("\"status\":\"UP\""));
        LOG.info("GET /observe/health took {} ms with all servers up, {} ms with Elasticsearch down", upMillis, downMillis);
    }

    @Test
    @org.junit.jupiter.api.Order(4)
    void healthIsDownWhileDebeziumDoesNotStreamAndUpOnceItDoesAgain() throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> get("/observe/health").statusCode() == 200);

        // Camel's own route check goes DOWN at once; the slot check follows once the grace period (1 s here) is over
        pipeline.getCamelContext().getRouteController().stopRoute("capture-changes");
        HttpResponse<String> down = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                .until(() -> get("/observe/health"), response -> response.body().contains("\"name\":\"postgresql\""));
        assertEquals(503, down.statusCode());
        assertTrue(down.body().contains("postgresql: Debezium is not streaming: replication slot streaming_etl idle for"),
                down.body());
        LOG.info("Health while the capture is stopped: {}", down.body());

        pipeline.getCamelContext().getRouteController().startRoute("capture-changes");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .until(() -> get("/observe/health").statusCode() == 200);
        real.sql("INSERT INTO orders VALUES (130, 1, 5.00, 'PEN-05')");
        await().atMost(Duration.ofSeconds(30)).until(() -> real.documents("enriched_orders").containsKey("130"));
    }

    /**
     * Debezium's offsets file cut short (as Kafka Connect's own file store left it when killed while saving): the capture
     * does not start from nothing, which would snapshot again and never pass on the rows deleted meanwhile. It stops,
     * health says so, and the file stays as it is; once the operator deletes the file, a snapshot brings the tables in.
     */
    @Test
    @org.junit.jupiter.api.Order(5)
    void aCutShortOffsetsFileStopsTheCaptureWithHealthDownUntilTheOperatorDeletesIt() throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> get("/observe/health").statusCode() == 200);
        Path offsets = Path.of(pipeline.getCamelContext()
                .resolvePropertyPlaceholders("{{camel.component.debezium-postgres.offset-storage-file-name}}"));
        pipeline.getCamelContext().getRouteController().stopRoute("capture-changes");
        assertTrue(Files.size(offsets) > 0, "the offsets saved when the capture stopped");
        Files.write(offsets, new byte[0]);

        pipeline.getCamelContext().getRouteController().startRoute("capture-changes");
        real.sql("INSERT INTO orders VALUES (131, 1, 6.00, 'PEN-06')");
        HttpResponse<String> down = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                .until(() -> get("/observe/health"), response -> response.body().contains("\"name\":\"postgresql\""));
        assertTrue(down.body().contains("postgresql: Debezium is not streaming"), down.body());
        assertEquals(0, Files.size(offsets), "the cut-short file is left for the operator");
        assertFalse(real.documents("enriched_orders").containsKey("131"), "no order captured meanwhile");

        pipeline.getCamelContext().getRouteController().stopRoute("capture-changes");
        Files.delete(offsets);
        pipeline.getCamelContext().getRouteController().startRoute("capture-changes");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .until(() -> get("/observe/health").statusCode() == 200);
        await().atMost(Duration.ofSeconds(30)).until(() -> real.documents("enriched_orders").containsKey("131"));
    }

    private HttpResponse<String> get(String path) throws Exception {
        String credentials = Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(URI.create(management + path)).header("Authorization", "Basic " + credentials)
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private long timed(String path) throws Exception {
        long start = System.nanoTime();
        get(path);
        return (System.nanoTime() - start) / 1_000_000;
    }

    private String metrics() throws Exception {
        HttpResponse<String> response = get("/observe/metrics");
        assertEquals(200, response.statusCode());
        return response.body();
    }

    /** The metrics once the pipeline's counts ({@code etl_*_total}, {@code etl_*_count}) have stopped moving. */
    private String settledMetrics() {
        AtomicReference<String> last = new AtomicReference<>();
        RealServices.awaitStable(() -> {
            last.set(metrics());
            return last.get().lines().filter(line -> line.matches("etl_\\w+_(total|count)(\\{.*})? .*")).toList();
        }, Duration.ofSeconds(60));
        return last.get();
    }

    /**
     * The sum of the samples of a metric in Prometheus text format: {@code series} is the name, optionally followed by
     * the first labels as they are written ({@code name{a="1"}); 0 if there is none.
     */
    static double value(String prometheus, String series) {
        double sum = 0;
        for (String line : prometheus.lines().toList()) {
            if (line.startsWith("#")) {
                continue;
            }
            boolean match = series.contains("{") ? line.startsWith(series.endsWith("}") ? series.substring(0, series.length() - 1) : series)
                    : line.startsWith(series + " ") || line.startsWith(series + "{");
            if (match) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
