package dev.streametl.routes;

import java.util.concurrent.TimeUnit;

import dev.streametl.App;
import dev.streametl.observe.PipelineMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.CamelContext;
import org.apache.camel.EndpointInject;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pipeline's meters move where the routes say: captured, enriched, unmatched, dead-lettered, indexed, lag. */
@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class MeteredRoutesTest {

    @EndpointInject("direct:customers")
    ProducerTemplate customers;
    @EndpointInject("direct:orders")
    ProducerTemplate orders;
    @EndpointInject("mock:kafka-enriched-orders")
    MockEndpoint kafka;
    @EndpointInject("mock:unmatched")
    MockEndpoint unmatched;
    @EndpointInject("mock:dead-letters")
    MockEndpoint deadLetters;

    @Test
    void countsEnrichedIndexedUnmatchedAndDeadLetteredOrdersAndMeasuresTheLagFromTheSourceCommit() throws Exception {
        CamelContext context = orders.getCamelContext();
        MeterRegistry registry = context.getRegistry().lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME,
                MeterRegistry.class);
        assertNotNull(registry, "the registry camel-main serves on /observe/metrics");
        kafka.expectedMessageCount(2);
        unmatched.expectedMessageCount(1);
        deadLetters.expectedMessageCount(1);
        customers.sendBody(OrderEnrichmentRoutesTest.ANNA);
        long committed = System.currentTimeMillis() - 5_000;

        orders.sendBody(orderCommittedAt(7, 3, committed));
        orders.sendBody(orderCommittedAt(8, 3, committed));
        orders.sendBody(orderCommittedAt(9, 99, committed)); // no such customer: unmatched after the wait
        orders.sendBody("not json");

        MockEndpoint.assertIsSatisfied(kafka, unmatched, deadLetters);
        assertEquals(2, registry.get(PipelineMetrics.ENRICHED).counter().count());
        assertEquals(2, registry.get(PipelineMetrics.INDEXED).counter().count());
        assertEquals(1, registry.get(PipelineMetrics.UNMATCHED).counter().count());
        assertEquals(1, registry.get(PipelineMetrics.DEAD_LETTERED).tag("route", "enrich-order").counter().count());
        Timer lag = registry.get(PipelineMetrics.LAG).timer();
        assertEquals(2, lag.count());
        assertTrue(lag.max(TimeUnit.MILLISECONDS) >= 5_000 && lag.max(TimeUnit.MILLISECONDS) < 60_000,
                "lag from a commit 5 s ago: " + lag.max(TimeUnit.MILLISECONDS) + " ms");
        assertEquals(2, registry.get(PipelineMetrics.BULK).tag("route", "index-enriched-orders").tag("outcome", "answered")
                .timer().count());
    }

    @Test
    void countsEachStagesRetriesAndTellsHowLongItHasBeenOnItsCurrentBatch() throws Exception {
        CamelContext context = orders.getCamelContext();
        MeterRegistry registry = context.getRegistry().lookupByNameAndType(MicrometerConstants.METRICS_REGISTRY_NAME,
                MeterRegistry.class);
        assertEquals(0, registry.get(PipelineMetrics.RETRIES).tag("route", "publish-enriched-orders").counter().count());
        assertEquals(0, registry.get(PipelineMetrics.BUSY).tag("route", "order-enrichment").gauge().value());
        kafka.whenExchangeReceived(1, e -> {
            throw new java.net.ConnectException("Connection refused"); // Kafka away once: the send is retried
        });
        kafka.expectedMessageCount(2);
        customers.sendBody(OrderEnrichmentRoutesTest.ANNA);

        orders.sendBody(orderCommittedAt(7, 3, System.currentTimeMillis()));

        kafka.assertIsSatisfied();
        assertEquals(1, registry.get(PipelineMetrics.RETRIES).tag("route", "publish-enriched-orders").counter().count());
        assertEquals(0, registry.get(PipelineMetrics.BUSY).tag("route", "order-enrichment").gauge().value(),
                "done: nothing in flight");
    }

    private static String orderCommittedAt(int id, int customerId, long committed) {
        return OrderEnrichmentRoutesTest.orderChange("c", id, customerId, "10.00", "PEN-05")
                .replace("\"source\":{", "\"source\":{\"ts_ms\":" + committed + ",");
    }
}
