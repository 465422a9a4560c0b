package dev.streametl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The whole pipeline on real PostgreSQL, Kafka and Elasticsearch, started by the project's own code on free ports:
 * the sample data must end up enriched in Elasticsearch and on the enriched_orders topic exactly as the SQL join of the
 * source tables says, and new orders must follow within seconds. Customer updates in the default mode (as-of-order).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineEndToEndTest {

    @TempDir
    static Path tempDir;

    RealServices real;
    Main pipeline;

    @BeforeAll
    void startServicesAndPipeline() throws Exception {
        real = RealServices.start(tempDir);
        pipeline = real.startPipeline(Map.of());
    }

    @AfterAll
    void stop() {
        if (real != null) {
            real.close(); // the pipeline first
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void sampleOrdersAreIndexedEnrichedAsTheSqlJoinSays() throws Exception {
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(50, expected.size());

        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> real.documents("enriched_orders").size() == expected.size());

        assertEquals(expected, real.documents("enriched_orders"));
        await().atMost(Duration.ofSeconds(30)).until(() -> real.latest("enriched_orders").size() == expected.size());
        assertEquals(expected, real.latest("enriched_orders"));
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void newOrdersFollowWithinSeconds() throws Exception {
        real.sql(Files.readString(Path.of("sql/addnew_orders.sql")));
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(52, expected.size());

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.documents("enriched_orders"), documents -> documents.keySet().containsAll(List.of("52", "53")));

        assertEquals(expected, real.documents("enriched_orders"));
        await().atMost(Duration.ofSeconds(10)).until(() -> real.latest("enriched_orders").size() == expected.size());
        assertEquals(expected, real.latest("enriched_orders"));
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void byDefaultAnOrderKeepsTheCustomerAsItWasWhenEnriched() throws Exception {
        JsonNode before = real.documents("enriched_orders").get("52");
        real.sql("UPDATE customers SET name = 'Renamed Later', membership = 'premium' WHERE id = 4");
        await().atMost(Duration.ofSeconds(10)).until(() -> real.latest("postgres.public.customers").get("{\"id\":4}")
                .path("after").path("name").asText().equals("Renamed Later"));
        Thread.sleep(1000); // the customer table applies a change within milliseconds of its reaching the topic
        real.sql("INSERT INTO orders VALUES (54, 4, 20.00, 'CAP-03')");

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> real.documents("enriched_orders").containsKey("54"));

        assertEquals("Renamed Later", real.documents("enriched_orders").get("54").get("customer_name").asText());
        assertEquals("premium", real.documents("enriched_orders").get("54").get("customer_membership").asText());
        assertEquals(before, real.documents("enriched_orders").get("52"), "as-of-order: order 52 is not rewritten");
    }
}
