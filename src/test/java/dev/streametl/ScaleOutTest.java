package dev.streametl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two instances of the pipeline on one Kafka, each a JVM of its own: one captures, the other runs with capture switched
 * off. They share the orders topic through the enrichment's consumer group, each holding the whole customer table, and
 * every order ends up in Elasticsearch once, joined with the right customer.
 */
class ScaleOutTest {

    static final int ORDERS = 3000;
    static final String ENRICHMENT_GROUP = "etl-order-enrichment";

    @TempDir
    Path tempDir;

    RealServices real;
    Process first;
    Process second;

    @Test
    void twoInstancesShareTheOrdersAndEnrichEachOnce() throws Exception {
        real = RealServices.start(tempDir);
        first = real.startApp("first", Map.of());
        second = real.startApp("second", Map.of("etl.capture.enabled", "false"));
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == 50);
        // both have joined the group and each owns some of the orders topic's partitions
        await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                .until(() -> partitionsPerMember().size() == 2
                             && partitionsPerMember().values().stream().noneMatch(Set::isEmpty));
        Set<Set<Integer>> shares = Set.copyOf(partitionsPerMember().values());

        real.insertOrders(20_000, ORDERS, 25, new AtomicInteger());
        real.sql("UPDATE orders SET price = 999.99 WHERE order_id BETWEEN 20000 AND 20099");

        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(50 + ORDERS, expected.size());
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .until(() -> real.documents("enriched_orders").equals(expected));
        await().atMost(Duration.ofSeconds(30)).until(() -> real.latest("enriched_orders").equals(expected));
        assertTrue(first.isAlive() && second.isAlive(), "both instances ran to the end");
        assertEquals(shares, Set.copyOf(partitionsPerMember().values()), "no instance left the group or took over the other's share");
        assertFalse(real.records("enriched_orders.unmatched").iterator().hasNext(),
                "each instance found every customer in its own table");
        assertFalse(real.records("etl.dlq").iterator().hasNext(), "nothing was dead-lettered");
    }

    /** The partitions of the orders topic that each member of the enrichment's consumer group owns. */
    private Map<String, Set<Integer>> partitionsPerMember() throws Exception {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, real.kafka);
        try (Admin admin = Admin.create(config)) {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(ENRICHMENT_GROUP))
                    .all().get(30, TimeUnit.SECONDS).get(ENRICHMENT_GROUP);
            return group.members().stream().collect(Collectors.toMap(MemberDescription::consumerId,
                    member -> member.assignment().topicPartitions().stream()
                            .map(TopicPartition::partition).collect(Collectors.toSet())));
        }
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
