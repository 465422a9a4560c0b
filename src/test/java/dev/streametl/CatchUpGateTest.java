package dev.streametl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The catch-up gate: no order is enriched before the customer table has read the customers topic up to where it ended
 * at start-up. The topics are filled before the pipeline starts, with Debezium-shaped change records as the capture writes
 * them (the capture itself is off): customer 1 at an early value, then many other customers, then customer 1 at its final
 * value, and an order of customer 1 written after all of them. Without the gate, the order consumer joins its group and
 * enriches the order while the table is still replaying, with customer 1's early value.
 */
class CatchUpGateTest {

    static final String CUSTOMERS = "postgres.public.customers";
    static final String ORDERS = "postgres.public.orders";
    /**
     * Customers between customer 1's two values. Replaying them must take the table clearly longer than the order
     * consumer needs to join its group and fetch the order (about a second here): 20,000 take it 2-5 s.
     */
    static final int OTHER_CUSTOMERS = 20_000;

    @TempDir
    Path tempDir;

    RealServices real;

    @Test
    void anOrderWaitingAtStartIsJoinedWithItsCustomersLatestValueNotAnEarlierOne() throws Exception {
        real = RealServices.start(tempDir);
        try (Admin admin = real.admin()) { // as the pipeline creates them (etl.kafka.topic.*): it leaves existing ones
            admin.createTopics(List.of(
                    new NewTopic(CUSTOMERS, 1, (short) 1).configs(Map.of("cleanup.policy", "compact")),
                    new NewTopic(ORDERS, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        long lsn = 10_000_000;
        List<Map.Entry<String, String>> customers = new ArrayList<>(OTHER_CUSTOMERS + 2);
        customers.add(Map.entry("{\"id\":1}", customerChange(1, "Early Name", 20, "standard", ++lsn)));
        for (int id = 1000; id < 1000 + OTHER_CUSTOMERS; id++) {
            customers.add(Map.entry("{\"id\":" + id + "}", customerChange(id, "Customer " + id, 30, "standard", ++lsn)));
        }
        customers.add(Map.entry("{\"id\":1}", customerChange(1, "Final Name", 61, "premium", ++lsn)));
        real.produce(CUSTOMERS, customers);
        real.produce(ORDERS, List.of(Map.entry("{\"order_id\":5000}", "{\"before\":null,\"after\":{\"order_id\":5000,"
                + "\"customer_id\":1,\"price\":12.50,\"product_code\":\"MUG-02\"},\"source\":{\"lsn\":" + (++lsn)
                + ",\"ts_ms\":1},\"op\":\"c\",\"ts_ms\":1}")));

        real.startPipeline(Map.of("etl.capture.enabled", "false"));

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").containsKey("5000"));
        JsonNode document = real.documents("enriched_orders").get("5000");
        assertEquals(List.of("Final Name", 61, "premium"), customerFields(document), document.toString());
        JsonNode record = real.latest("enriched_orders").get("5000");
        assertEquals(List.of("Final Name", 61, "premium"), customerFields(record), record.toString());
    }

    private static List<Object> customerFields(JsonNode order) {
        return List.of(order.path("customer_name").asText(), order.path("customer_age").asInt(),
                order.path("customer_membership").asText());
    }

    private static String customerChange(int id, String name, int age, String membership, long lsn) {
        return "{\"before\":null,\"after\":{\"id\":%d,\"name\":\"%s\",\"age\":%d,\"membership\":\"%s\"},\"source\":{\"lsn\":%d,\"ts_ms\":1},\"op\":\"%s\",\"ts_ms\":1}"
                .formatted(id, name, age, membership, lsn, id == 1 && name.startsWith("Final") ? "u" : "c");
    }

    @AfterEach
    void stop() {
        if (real != null) {
            real.close(); // the pipeline first
        }
    }
}
