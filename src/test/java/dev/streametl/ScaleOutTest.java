package dev.streametl;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.MemberDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two instances of the pipeline on one Kafka, each a JVM of its own: one captures, the other runs with capture switched
 * off. They share the orders topic through the enrichment's consumer group (each instance's own metrics show it enriched
 * some), each holding the whole customer table, and every order ends up in Elasticsearch once, joined with the right
 * customer.
 */
class ScaleOutTest {

    static final int ORDERS = 3000;
    static final String ENRICHMENT_GROUP = "etl-order-enrichment";
    static final String ORDERS_TOPIC = "postgres.public.orders partitions=6";

    @TempDir
    Path tempDir;

    RealServices real;
    Process first;
    Process second;

    @Test
    void twoInstancesShareTheOrdersAndEnrichEachOnce() throws Exception {
        real = RealServices.start(tempDir);
        int firstPort = RealServices.freePort();
        int secondPort = RealServices.freePort();
        // the second first: once its consumers are in the enrichment's group, the first one's join them. Two instances
        // of etl.orders.consumers (3) each need 6 partitions, or the last to come gets none (README, several instances)
        second = real.startApp("second", Map.of("camel.management.port", String.valueOf(secondPort),
                "etl.capture.enabled", "false", "etl.kafka.topic.orders", ORDERS_TOPIC));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> membersWithPartitions().size() == 3);
        Set<String> secondMembers = membersWithPartitions();
        first = real.startApp("first", Map.of("camel.management.port", String.valueOf(firstPort),
                "etl.kafka.topic.orders", ORDERS_TOPIC));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).until(() -> {
            Set<String> members = membersWithPartitions();
            return members.stream().anyMatch(secondMembers::contains) && !secondMembers.containsAll(members);
        });

        real.insertOrders(20_000, ORDERS, 25, new AtomicInteger());
        real.sql("UPDATE orders SET price = 999.99 WHERE order_id BETWEEN 20000 AND 20099");

        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(50 + ORDERS, expected.size());
        RealServices.awaitSettled(expected, () -> real.documents("enriched_orders"), Duration.ofMinutes(3),
                Duration.ofSeconds(1));
        RealServices.awaitSettled(expected, () -> real.latest("enriched_orders", Duration.ofSeconds(30)),
                Duration.ofSeconds(30));
        assertTrue(first.isAlive() && second.isAlive(), "both instances ran to the end");
        // product sales, counted by both instances (their group shares the partitions), are SQL's counts
        assertEquals(2, real.consumerGroup("etl-product-sales").orElseThrow().members().stream()
                .filter(member -> !member.assignment().topicPartitions().isEmpty()).count(), "both instances count");
        Map<String, Long> sales = real.salesInSql();
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> assertEquals(sales, RealServices.counts(real.documents("product_sales"))));
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> assertEquals(sales, RealServices.counts(real.latest("product_sales"))));

        double enrichedByFirst = enriched(firstPort);
        double enrichedBySecond = enriched(secondPort);
        assertTrue(enrichedByFirst > 0 && enrichedBySecond > 0,
                "both instances enriched orders: " + enrichedByFirst + " and " + enrichedBySecond);
        // 50 + 3000 inserts and 100 updates between them (more only if a rebalance replayed a batch: at least once)
        assertTrue(enrichedByFirst + enrichedBySecond >= 50 + ORDERS + 100, enrichedByFirst + " + " + enrichedBySecond);
        // one instance captured everything: the 62 rows of the snapshot, the inserts and the updates, each once
        assertEquals(12 + 50 + ORDERS + 100, enriched(firstPort, "etl_changes_captured_total"),
                "the first instance captured every change");
        // and the second captured nothing. A meter that is not there would read 0 as well: its metrics must show the
        // meter of the capture's sender (publish-changes, which every captured change goes through), at 0
        String secondMetrics = metrics(secondPort);
        assertEquals(Optional.of(0.0), sample(secondMetrics, "camel_exchanges_total", "routeId=\"publish-changes\""),
                "the second instance's capture sent nothing:\n" + secondMetrics);
        assertEquals(0, WatchItTest.value(secondMetrics, "etl_changes_captured_total"), "the second instance does not capture");
        assertEquals(List.of(), real.records("enriched_orders.unmatched", Duration.ofSeconds(30)),
                "each instance found every customer in its own table");
        assertEquals(List.of(), real.records("etl.dlq", Duration.ofSeconds(30)), "nothing was dead-lettered");
    }

    /** How many orders the instance whose management server is on this port has enriched. */
    private static double enriched(int managementPort) throws Exception {
        return enriched(managementPort, "etl_orders_enriched_total");
    }

    private static double enriched(int managementPort, String meter) throws Exception {
        return WatchItTest.value(metrics(managementPort), meter);
    }

    /** The metrics of the instance whose management server is on this port, in Prometheus text format. */
    private static String metrics(int managementPort) throws Exception {
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + managementPort + "/observe/metrics")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        return metrics.body();
    }

    /** The sum of the samples of a metric that carry this label ({@code name="value"}); empty if it has none. */
    static Optional<Double> sample(String prometheus, String metric, String label) {
        List<Double> values = prometheus.lines().filter(line -> line.startsWith(metric + "{"))
                .filter(line -> line.substring(0, line.lastIndexOf('}') + 1).contains(label))
                .map(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).toList();
        return values.isEmpty() ? Optional.empty() : Optional.of(values.stream().mapToDouble(Double::doubleValue).sum());
    }

    /** The members of the enrichment's consumer group that own partitions of the orders topic. */
    private Set<String> membersWithPartitions() throws Exception {
        return real.consumerGroup(ENRICHMENT_GROUP).map(group -> group.members().stream()
                .filter(member -> !member.assignment().topicPartitions().isEmpty())
                .map(MemberDescription::consumerId).collect(Collectors.toSet())).orElse(Set.of()); // none joined yet
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Process app : new Process[] {first, second}) {
            if (app != null) {
                app.destroy();
            }
        }
        for (Process app : new Process[] {first, second}) {
            if (app != null && !app.waitFor(60, TimeUnit.SECONDS)) {
                app.destroyForcibly();
            }
        }
        if (real != null) {
            real.close();
        }
    }
}
