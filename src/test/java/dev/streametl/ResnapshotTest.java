package dev.streametl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Re-reading tables on demand, while streaming goes on: an operator inserts one row into Debezium's signal table, and
 * an incremental snapshot reads {@code customers} and {@code orders} again. Here customers were renamed first, so
 * their indexed orders (as-of-order) hold the old names; the re-read re-enriches every order with its customer as it
 * is now, while new orders keep coming. Afterwards Elasticsearch and the enriched_orders topic equal the SQL join: no
 * order lost, none twice, none written over by an older version.
 */
class ResnapshotTest {

    @TempDir
    static Path tempDir;

    @Test
    void anIncrementalSnapshotTriggeredBySqlReadsTheTablesAgainWhileOrdersFlow() throws Exception {
        try (RealServices real = RealServices.start(tempDir)) {
            real.startPipeline(Map.of());
            RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(2));
            long customerReads = snapshotReads(real, "postgres.public.customers");
            long orderReads = snapshotReads(real, "postgres.public.orders");
            assertEquals(12, customerReads);
            assertEquals(50, orderReads);

            // the orders indexed so far keep their customers' old names (as-of-order)
            real.sql("UPDATE customers SET name = name || ' (renamed)' WHERE id % 3 = 0");
            AtomicInteger inserted = new AtomicInteger();
            Thread load = new Thread(() -> real.insertOrders(1000, 600, 10, inserted), "orders-load");
            load.start();
            real.sql("INSERT INTO debezium_signal VALUES ('resnapshot-1', 'execute-snapshot',"
                     + " '{\"data-collections\": [\"public.customers\", \"public.orders\"], \"type\": \"incremental\"}')");
            load.join(Duration.ofMinutes(2).toMillis());
            assertEquals(600, inserted.get());

            Map<String, JsonNode> join = real.sqlJoin();
            long renamedBefore = join.values().stream().filter(order -> order.path("order_id").asInt() <= 50
                    && order.path("customer_name").asText().endsWith(" (renamed)")).count();
            assertTrue(renamedBefore > 0, "some of the first 50 orders are of a renamed customer");
            RealServices.awaitSettled(join, () -> real.documents("enriched_orders"), Duration.ofMinutes(3),
                    Duration.ofSeconds(1));
            RealServices.assertSameOrders(join, real.latest("enriched_orders"));
            // the tables were read again, every row of them (orders: at least those there at the signal)
            assertEquals(customerReads + 12, snapshotReads(real, "postgres.public.customers"));
            assertTrue(snapshotReads(real, "postgres.public.orders") >= orderReads + 50);
            assertEquals(0, real.records("etl.dlq").size(), "dead letters");
        }
    }

    private static long snapshotReads(RealServices real, String topic) {
        return real.records(topic).stream()
                .filter(record -> record.value() != null && RealServices.tree(record.value()).path("op").asText().equals("r"))
                .count();
    }
}
