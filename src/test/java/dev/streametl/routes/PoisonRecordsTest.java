package dev.streametl.routes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.streametl.App;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.PartitionCounts;
import org.apache.camel.EndpointInject;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.Test;

import static dev.streametl.routes.InsightsRoutesTest.enriched;
import static dev.streametl.routes.OrderEnrichmentRoutesTest.customerChange;
import static dev.streametl.routes.OrderEnrichmentRoutesTest.orderChange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad record on every consumer of a Kafka topic: dead-lettered alone, with the reason and where it came
 * from, while the good records of the same batch flow. None is retried (that would stop its partition for good), none
 * is dropped silently.
 */
@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class PoisonRecordsTest {

    /** Bad order changes, by kind, each with what its dead letter's reason must say. */
    static final Map<String, String> BAD_ORDER_CHANGES = new LinkedHashMap<>();

    static {
        String good = orderChange("c", 40, 3, "12.00", "MUG-02");
        BAD_ORDER_CHANGES.put("null", "the JSON literal null");
        BAD_ORDER_CHANGES.put("", "empty change record");
        BAD_ORDER_CHANGES.put(good.replace(",\"price\":12.00", ""), "Missing creator property 'price'");
        BAD_ORDER_CHANGES.put(good.replace("\"price\":12.00", "\"price\":null"), "order 40 has no price");
        BAD_ORDER_CHANGES.put(good.replace("\"order_id\":40", "\"order_id\":null"), "order_id");
        BAD_ORDER_CHANGES.put(good.replace("\"order_id\":40", "\"order_id\":\"forty\""), "order_id");
        BAD_ORDER_CHANGES.put(good.replace("\"customer_id\":3", "\"customer_id\":\"3\""), "customer_id");
        BAD_ORDER_CHANGES.put(good.replace("\"price\":12.00", "\"price\":{\"amount\":12}"), "price");
        BAD_ORDER_CHANGES.put(good.replace("\"op\":\"c\"", "\"op\":\"t\""), "unknown operation 't'");
        BAD_ORDER_CHANGES.put("[1,2]", "ChangeEvent");
        BAD_ORDER_CHANGES.put("\"an order\"", "ChangeEvent");
        BAD_ORDER_CHANGES.put("42", "ChangeEvent");
        BAD_ORDER_CHANGES.put(good.replaceAll("\"source\":\\{[^}]*}", "\"source\":{}"), "no position in the source");
    }

    /** Bad enriched orders (records of the enriched_orders topic), by kind, with what the reason must say. */
    static final Map<String, String> BAD_ENRICHED_ORDERS = new LinkedHashMap<>();

    static {
        String good = enriched(41, "500.00", "CAP-03", "standard");
        BAD_ENRICHED_ORDERS.put("null", "the JSON literal null");
        BAD_ENRICHED_ORDERS.put("", "No content");
        BAD_ENRICHED_ORDERS.put(good.replace("\"price\":500.00,", ""), "Missing creator property 'price'");
        BAD_ENRICHED_ORDERS.put(good.replace("\"price\":500.00", "\"price\":null"), "enriched order 41 has no price");
        BAD_ENRICHED_ORDERS.put(good.replace("\"product_code\":\"CAP-03\"", "\"product_code\":null"),
                "enriched order 41 has no product_code");
        BAD_ENRICHED_ORDERS.put(good.replace("\"order_id\":41", "\"order_id\":\"x\""), "order_id");
        BAD_ENRICHED_ORDERS.put(good.replace("\"customer_id\":1", "\"customer_id\":\"1\""), "customer_id");
        BAD_ENRICHED_ORDERS.put("[1,2]", "EnrichedOrder");
        BAD_ENRICHED_ORDERS.put("\"an order\"", "EnrichedOrder");
    }

    @EndpointInject("direct:orders")
    ProducerTemplate orders;
    @EndpointInject("direct:customers")
    ProducerTemplate customers;
    @EndpointInject("direct:prospects")
    ProducerTemplate prospects;
    @EndpointInject("direct:product-sales")
    ProducerTemplate productSales;
    @EndpointInject("mock:kafka-enriched-orders")
    MockEndpoint enrichedOrders;
    @EndpointInject("mock:kafka-prospects")
    MockEndpoint prospectsTopic;
    @EndpointInject("mock:kafka-product-sales-state")
    MockEndpoint stateTopic;
    @EndpointInject("mock:dead-letters")
    MockEndpoint deadLetters;

    @Test
    void everyKindOfBadOrderChangeIsDeadLetteredAndTheGoodOnesAreEnriched() throws Exception {
        customers.sendBody(customerChange("c", 3, "Anna Berg", 41, "standard"));
        deadLetters.expectedMessageCount(BAD_ORDER_CHANGES.size());
        enrichedOrders.expectedMessageCount(1);

        orders.sendBody(badOrderChangesBatch());

        MockEndpoint.assertIsSatisfied(deadLetters, enrichedOrders);
        assertDeadLetters(BAD_ORDER_CHANGES, "postgres.public.orders", "enrich-order");
        assertEquals(BAD_ORDER_CHANGES.size(), enrichedOrders.getExchanges().get(0).getMessage().getBody(List.class).size(),
                "every good order of the batch is enriched");
    }

    @Test
    void everyKindOfBadEnrichedOrderIsDeadLetteredAndTheProspectsGoOn() throws Exception {
        deadLetters.expectedMessageCount(BAD_ENRICHED_ORDERS.size());
        prospectsTopic.expectedMessageCount(1);

        prospects.sendBody(batchOf(BAD_ENRICHED_ORDERS));

        MockEndpoint.assertIsSatisfied(deadLetters, prospectsTopic);
        assertDeadLetters(BAD_ENRICHED_ORDERS, "enriched_orders", "high-value-prospects");
        assertEquals(BAD_ENRICHED_ORDERS.size(), prospectsTopic.getExchanges().get(0).getMessage().getBody(List.class).size());
    }

    @Test
    void everyKindOfBadOrderChangeCountsNothingAndTheProductSalesGoOn() throws Exception {
        stateTopic.expectedMessageCount(1);

        List<Exchange> batch = badOrderChangesBatch();
        productSales.sendBody(batch);

        stateTopic.assertIsSatisfied();
        assertEquals(0, deadLetters.getReceivedCounter(), "the enrichment, the topic's other reader, dead-letters them");
        Message state = (Message) stateTopic.getExchanges().get(0).getMessage().getBody(List.class).get(0);
        PartitionCounts counts = Json.read(state.getBody(String.class), PartitionCounts.class);
        assertEquals(Map.of("PEN-05", (long) BAD_ORDER_CHANGES.size()), counts.counts(), "every good change counted");
        assertEquals(batch.get(batch.size() - 1).getMessage().getHeader(KafkaConstants.OFFSET), counts.offset(),
                "the bad ones moved the offset too");
    }

    /** Each bad order change followed by a good one, keyed and placed as Kafka would (from offset 100, partition 2). */
    private List<Exchange> badOrderChangesBatch() {
        List<Exchange> batch = new ArrayList<>();
        int offset = 100;
        for (String bad : BAD_ORDER_CHANGES.keySet()) {
            batch.add(record(bad, "postgres.public.orders", offset++));
            batch.add(record(orderChange("c", offset, 3, "10.00", "PEN-05"), "postgres.public.orders", offset++));
        }
        return batch;
    }

    /** Each bad record followed by a good big order of a standard customer, keyed and placed as Kafka would. */
    private List<Exchange> batchOf(Map<String, String> bad) {
        List<Exchange> batch = new ArrayList<>();
        int offset = 100;
        for (String value : bad.keySet()) {
            batch.add(record(value, "enriched_orders", offset++));
            batch.add(record(enriched(offset, "500.00", "CAP-03", "standard"), "enriched_orders", offset++));
        }
        return batch;
    }

    private void assertDeadLetters(Map<String, String> bad, String topic, String route) {
        List<String> values = new ArrayList<>(bad.keySet());
        for (int i = 0; i < values.size(); i++) {
            Message deadLetter = deadLetters.getExchanges().get(i).getMessage();
            String reason = deadLetter.getHeader(DeadLetter.ERROR, String.class);
            assertEquals(values.get(i), deadLetter.getBody(String.class), "the record as it came");
            assertTrue(reason.startsWith("InvalidRecordException: ") && reason.contains(bad.get(values.get(i))),
                    "reason for " + values.get(i) + ": " + reason);
            assertEquals(topic, deadLetter.getHeader(DeadLetter.SOURCE_TOPIC));
            assertEquals("2", deadLetter.getHeader(DeadLetter.SOURCE_PARTITION));
            assertEquals(String.valueOf(100 + 2 * i), deadLetter.getHeader(DeadLetter.SOURCE_OFFSET));
            assertEquals(route, deadLetter.getHeader(DeadLetter.ROUTE));
        }
    }

    /** A record of a Kafka batch, as a batching kafka: consumer delivers it: an exchange with its Kafka headers. */
    private Exchange record(String value, String topic, long offset) {
        Exchange record = new DefaultExchange(orders.getCamelContext());
        record.getMessage().setBody(value);
        record.getMessage().setHeader(KafkaConstants.KEY, String.valueOf(offset));
        record.getMessage().setHeader(KafkaConstants.TOPIC, topic);
        record.getMessage().setHeader(KafkaConstants.PARTITION, 2);
        record.getMessage().setHeader(KafkaConstants.OFFSET, offset);
        return record;
    }
}
