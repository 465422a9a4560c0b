package dev.streametl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.camel.main.Main;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Capture state in Kafka ({@code etl.capture.offsets=kafka}): the capturing instance keeps Debezium's offsets in a
 * compacted topic, so it can move to another machine or container with no disk of its own. Here the second run has an
 * empty state folder, as a new container would: capture must resume where the first run stopped, with no second
 * snapshot and no change captured twice, and pick up what changed in between.
 */
class CaptureOffsetsInKafkaTest {

    static final String OFFSETS_TOPIC = "etl.capture.offsets";

    @TempDir
    static Path tempDir;

    @Test
    void captureResumesFromItsOffsetsInKafkaWithAnEmptyStateFolder() throws Exception {
        try (RealServices real = RealServices.start(tempDir)) {
            Path firstState = tempDir.resolve("state-first-container");
            Main first = real.startPipeline(Map.of("etl.capture.offsets", "kafka", "etl.state-dir", firstState.toString()));
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> real.documents("enriched_orders").equals(real.sqlJoin()));
            real.sql("INSERT INTO orders VALUES (201, 3, 42.00, 'CAP-01')");
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
                    .until(() -> real.documents("enriched_orders").containsKey("201"));
            first.stop(); // a clean stop: the last offsets are saved, to the topic

            // meanwhile, on the database
            real.sql("INSERT INTO orders VALUES (202, 4, 43.00, 'CAP-02')",
                    "UPDATE orders SET price = 44.00 WHERE order_id = 201");

            // another container: nothing of the first one's disk
            Path secondState = tempDir.resolve("state-second-container");
            real.startPipeline(Map.of("etl.capture.offsets", "kafka", "etl.state-dir", secondState.toString()));
            RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(2));

            // one snapshot (50 reads), then each change once: 201 inserted, 202 inserted, 201 updated
            List<ConsumerRecord<String, String>> orders = real.records("postgres.public.orders");
            long snapshotReads = orders.stream()
                    .filter(record -> record.value() != null && RealServices.tree(record.value()).path("op").asText().equals("r"))
                    .count();
            assertEquals(50, snapshotReads, "snapshot reads of orders: a second snapshot ran");
            assertEquals(53, orders.size(), "order changes on the topic: one was captured twice, or lost");
            assertFalse(Files.exists(firstState.resolve("debezium-offsets.dat")), "the offsets went to a file");
            assertFalse(Files.exists(secondState.resolve("debezium-offsets.dat")), "the offsets went to a file");
            try (Admin admin = real.admin()) {
                ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, OFFSETS_TOPIC);
                Config config = admin.describeConfigs(List.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic);
                assertEquals("compact", config.get("cleanup.policy").value());
            }
        }
    }
}
