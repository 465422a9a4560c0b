package dev.streametl;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import dev.streametl.pipeline.DeadLetter;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tables change under the running pipeline, as they do in production: columns added, a column the pipeline needs
 * renamed away and back, each table truncated, a needed column dropped. On real PostgreSQL, Kafka and Elasticsearch.
 */
class TruncateAndSchemaChangesTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path tempDir;

    @Test
    void columnsAddedDroppedAndTablesTruncatedWhileRunning() throws Exception {
        try (RealServices real = RealServices.start(tempDir)) {
            int port = RealServices.freePort();
            real.startPipeline(Map.of("camel.management.port", String.valueOf(port)));
            String healthUrl = "http://localhost:" + port + "/observe/health?exposureLevel=full";
            RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(2));

            // a column added to each table while running: nothing changes downstream
            real.sql("ALTER TABLE customers ADD COLUMN email text",
                    "ALTER TABLE orders ADD COLUMN note text",
                    "INSERT INTO customers VALUES (100, 'Grace Hopper', 85, 'premium', 'grace@example.com')",
                    "INSERT INTO orders VALUES (1001, 100, 120.50, 'BAG-01', 'gift')",
                    "UPDATE orders SET price = price + 1, note = 'repriced' WHERE order_id = 1");
            RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(1));
            assertEquals(0, real.records("etl.dlq").size(), "dead letters after columns were added");
            assertColumnsUp(healthUrl);

            // a column the pipeline needs renamed away: the changes lacking it are dead-lettered, saying why, and
            // health names the table and the column; back under its name, the changes flow and health is UP again
            real.sql("ALTER TABLE orders RENAME COLUMN product_code TO sku",
                    "INSERT INTO orders VALUES (1002, 100, 99.00, 'CAP-02', null)");
            ConsumerRecord<String, String> deadLetter = await().atMost(Duration.ofMinutes(1))
                    .until(() -> real.records("etl.dlq").stream().findFirst(), Optional::isPresent).orElseThrow();
            String reason = RealServices.header(deadLetter, DeadLetter.ERROR);
            assertTrue(reason.contains("orders row has no column product_code"), reason);
            assertEquals("postgres.public.orders", RealServices.header(deadLetter, DeadLetter.SOURCE_TOPIC));
            String down = get(healthUrl);
            assertTrue(down.contains("the latest change of orders has no column product_code"), down);
            assertEquals(0, real.documents("enriched_orders").keySet().stream().filter("1002"::equals).count());

            real.sql("ALTER TABLE orders RENAME COLUMN sku TO product_code",
                    "UPDATE orders SET price = 98.00 WHERE order_id = 1002"); // the dead-lettered order, changed again
            RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(1));
            assertColumnsUp(healthUrl);

            // TRUNCATE orders: every order document removed, every enriched order tombstoned, every sale taken back;
            // orders inserted afterwards flow as usual
            real.sql("TRUNCATE orders");
            await().atMost(Duration.ofMinutes(1)).until(() -> real.documents("enriched_orders").isEmpty());
            await().atMost(Duration.ofMinutes(1)).until(() -> real.latest("enriched_orders").isEmpty());
            await().atMost(Duration.ofMinutes(1)).until(() -> real.documents("product_sales").values().stream()
                    .allMatch(sales -> sales.path("order_count").asLong() == 0));
            assertTrue(real.latest("postgres.public.orders").isEmpty(), "the change topic forgets the truncated rows");
            real.sql("INSERT INTO orders VALUES (2001, 100, 310.00, 'BAG-01', null)",
                    "INSERT INTO orders VALUES (2002, 1, 20.00, 'CAP-02', null)");
            Map<String, JsonNode> afterTruncate = real.sqlJoin();
            assertEquals(2, afterTruncate.size());
            RealServices.awaitSettled(afterTruncate, () -> real.documents("enriched_orders"), Duration.ofMinutes(1));
            RealServices.assertSameOrders(afterTruncate, real.latest("enriched_orders"));

            // TRUNCATE customers: the customer table is emptied. An order of customer 1 placed now is not joined with
            // the customer 1 that was (it waits); customer 1 inserted again, it is joined with that one
            real.sql("TRUNCATE customers");
            await().atMost(Duration.ofMinutes(1)).until(() -> real.latest("postgres.public.customers").isEmpty());
            real.sql("INSERT INTO orders VALUES (2003, 1, 45.00, 'BAG-01', null)");
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10))
                    .until(() -> !real.documents("enriched_orders").containsKey("2003"));
            real.sql("INSERT INTO customers VALUES (1, 'Customer One Again', 40, 'standard', null)");
            Map<String, JsonNode> expected = real.sqlJoin();
            await().atMost(Duration.ofMinutes(1)).until(() -> real.documents("enriched_orders").containsKey("2003"));
            assertEquals(expected.get("2003"), real.documents("enriched_orders").get("2003"));
            assertEquals(1, real.records("etl.dlq").size(), "dead letters: only the order without its product_code");

            // a column the pipeline needs dropped: the customer changes lacking it are dead-lettered, health says why
            real.sql("ALTER TABLE customers DROP COLUMN membership",
                    "INSERT INTO customers VALUES (101, 'Alan Turing', 41, null)");
            await().atMost(Duration.ofMinutes(1)).until(() -> real.records("etl.dlq").size() == 2);
            String dropped = RealServices.header(real.records("etl.dlq").get(1), DeadLetter.ERROR);
            assertTrue(dropped.contains("customers row has no column membership"), dropped);
            String health = get(healthUrl);
            assertTrue(health.contains("the latest change of customers has no column membership"), health);
        }
    }

    /** The health check of the columns the pipeline needs is there, and UP. */
    private static void assertColumnsUp(String health) throws Exception {
        String body = get(health);
        assertTrue(body.contains("\"name\": \"columns\"") || body.contains("\"name\":\"columns\""), body);
        assertFalse(body.contains("has no column"), body);
    }

    private static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
