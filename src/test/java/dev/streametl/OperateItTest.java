package dev.streametl;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.camel.main.Main;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static dev.streametl.WatchItTest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Running for months, on real PostgreSQL, Kafka and Elasticsearch with the pipeline's default settings: while the
 * captured tables are idle and another table takes ~100 MB, Debezium's heartbeats move the replication slot on, so the
 * WAL it retains comes back under the bound (health UP, the metric says how much), and no heartbeat reaches a stage.
 * And Jolokia, on the management server, is read-only: a read works, stopping a route is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperateItTest {

    private static final Logger LOG = LoggerFactory.getLogger(OperateItTest.class);
    private static final long BOUND_MB = 48;
    private static final String SLOT = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint,"
            + " pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'streaming_etl'";
    private static final List<String> TOPICS = List.of("postgres.public.customers", "postgres.public.orders", "etl.dlq",
            "enriched_orders");
    private static final String ROUTE = "org.apache.camel:context=streaming-etl,type=routes,name=%22capture-changes%22";

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
        // the heartbeats as application.properties has them; only the bound is lower than the default, to fit the test
        pipeline = real.startPipeline(Map.of("camel.management.port", String.valueOf(port),
                "etl.health.max-retained-wal-mb", String.valueOf(BOUND_MB)));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
    }

    @AfterAll
    void stop() {
        if (real != null) {
            real.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void heartbeatsKeepTheSlotsWalBoundedWhileOnlyOtherTablesAreWritten() throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> get("/observe/health").statusCode() == 200);
        String before = metrics();
        Map<String, Map<Integer, Long>> offsetsBefore = endOffsets();
        Set<String> topicsBefore = topics();

        // ~100 MB into a table Debezium does not capture, in ten transactions; the captured tables stay idle
        long started = System.nanoTime();
        long maxRetained = 0;
        long startOfWrites;
        long endOfWrites;
        try (Connection db = DriverManager.getConnection(real.jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement()) {
            startOfWrites = lsn(sql, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
            sql.execute("CREATE TABLE bulk_load (id bigint PRIMARY KEY, payload text)");
            for (int chunk = 0; chunk < 10; chunk++) {
                sql.execute("INSERT INTO bulk_load SELECT g, repeat(md5(g::text), 31) FROM generate_series("
                        + chunk * 10_000L + ", " + (chunk * 10_000L + 9_999) + ") g");
                maxRetained = Math.max(maxRetained, slot()[0]);
            }
            endOfWrites = lsn(sql, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
        }
        LOG.info("Wrote {} MB of WAL (bulk_load) in {} ms; the slot retained up to {} MB meanwhile",
                (endOfWrites - startOfWrites) >> 20, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                maxRetained >> 20);
        assertTrue(endOfWrites - startOfWrites > 2 * (BOUND_MB << 20), "the writes alone are well beyond the bound");

        // Debezium confirms the position of a heartbeat after the writes: the slot lets the WAL go
        long[] slot = await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(this::slot, now -> now[0] < BOUND_MB << 20 && now[1] >= endOfWrites);
        LOG.info("Slot after the heartbeats: retains {} MB, {} s after the writes", slot[0] >> 20,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        HttpResponse<String> health = get("/observe/health?exposureLevel=full&data=true");
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("slot.retained-wal-bytes") && health.body().contains("\"slot.wal-status\":\"reserved\""),
                health.body());
        String after = metrics();
        assertTrue(after.contains("etl_capture_retained_wal_bytes "), "the metric is served");
        double retained = value(after, "etl_capture_retained_wal_bytes");
        assertTrue(retained >= 0 && retained < BOUND_MB << 20, "the metric says what the slot retains: " + retained);

        // no heartbeat reached a stage: nothing captured, nothing dead-lettered, no record on any topic, no new topic
        for (String series : List.of("etl_changes_captured_total", "etl_dead_letters_total", "etl_orders_enriched_total")) {
            assertEquals(value(before, series), value(after, series), series);
        }
        assertEquals(0, value(after, "etl_dead_letters_total"));
        assertEquals(offsetsBefore, endOffsets(), "no record on the topics");
        assertEquals(topicsBefore, topics(), "no topic for heartbeats or messages");

        // and the capture goes on
        real.sql("INSERT INTO orders VALUES (61, 1, 5.00, 'PEN-05')");
        await().atMost(Duration.ofSeconds(30)).until(() -> real.documents("enriched_orders").containsKey("61"));
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void jolokiaIsReadOnly() throws Exception {
        HttpResponse<String> read = get("/observe/jolokia/read/" + ROUTE + "/State");
        assertTrue(read.body().contains("\"status\":200") && read.body().contains("\"value\":\"Started\""), read.body());

        for (String operation : List.of(
                "{\"type\":\"exec\",\"mbean\":\"" + decoded(ROUTE) + "\",\"operation\":\"stop()\"}",
                "{\"type\":\"exec\",\"mbean\":\"org.apache.camel:context=streaming-etl,type=context,name=\\\"streaming-etl\\\"\","
                        + "\"operation\":\"stop()\"}",
                "{\"type\":\"write\",\"mbean\":\"" + decoded(ROUTE) + "\",\"attribute\":\"Tracing\",\"value\":true}")) {
            HttpResponse<String> refused = post("/observe/jolokia/", operation);
            assertTrue(refused.body().contains("\"status\":403"), operation + " -> " + refused.body());
        }
        HttpResponse<String> refused = get("/observe/jolokia/exec/" + ROUTE + "/stop()");
        assertTrue(refused.body().contains("\"status\":403"), refused.body());
        assertEquals("Started", pipeline.getCamelContext().getRouteController().getRouteStatus("capture-changes").name());

        // what Hawtio calls to draw the routes works
        HttpResponse<String> routes = get("/observe/jolokia/exec/" + ROUTE + "/dumpRouteAsXml()");
        assertTrue(routes.body().contains("\"status\":200") && routes.body().contains("capture-changes"), routes.body());
    }

    private long[] slot() throws Exception {
        try (Connection db = DriverManager.getConnection(real.jdbcUrl, "postgres", "postgres");
             Statement sql = db.createStatement(); ResultSet row = sql.executeQuery(SLOT)) {
            assertTrue(row.next(), "the slot exists");
            return new long[] { row.getLong(1), row.getLong(2) };
        }
    }

    private static long lsn(Statement sql, String query) throws Exception {
        try (ResultSet row = sql.executeQuery(query)) {
            row.next();
            return row.getLong(1);
        }
    }

    private Map<String, Map<Integer, Long>> endOffsets() {
        Map<String, Map<Integer, Long>> offsets = new TreeMap<>();
        TOPICS.forEach(topic -> offsets.put(topic, real.endOffsets(topic)));
        return offsets;
    }

    private Set<String> topics() throws Exception {
        try (Admin admin = real.admin()) {
            Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            assertFalse(topics.stream().anyMatch(t -> t.contains("heartbeat") || t.equals("postgres.message")), topics.toString());
            return topics;
        }
    }

    private static String decoded(String mbean) {
        return mbean.replace("%22", "\\\"");
    }

    private String metrics() throws Exception {
        HttpResponse<String> response = get("/observe/metrics");
        assertEquals(200, response.statusCode());
        return response.body();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(management + path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(management + path)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
