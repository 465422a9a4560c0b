package dev.streametl.routes;

import java.util.List;

import co.elastic.clients.elasticsearch.core.bulk.IndexOperation;
import dev.streametl.App;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.KafkaRecords;
import org.apache.camel.EndpointInject;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class InsightsRoutesTest {

    @EndpointInject("direct:prospects")
    ProducerTemplate prospects;
    @EndpointInject("direct:product-sales")
    ProducerTemplate productSales;
    @EndpointInject("mock:kafka-prospects")
    MockEndpoint prospectsTopic;
    @EndpointInject("mock:kafka-product-sales")
    MockEndpoint salesTopic;
    @EndpointInject("mock:elasticsearch-product-sales")
    MockEndpoint salesIndex;
    @EndpointInject("mock:dead-letters")
    MockEndpoint deadLetters;

    @Test
    void keepsBigOrdersOfCustomersWhoAreNotPremium() throws Exception {
        prospectsTopic.expectedMessageCount(2); // a batch each: here every record comes alone

        prospects.sendBody(enriched(1, "300.01", "CAP-03", "standard"));
        prospects.sendBody(enriched(2, "300.00", "CAP-03", "standard"));
        prospects.sendBody(enriched(3, "950.00", "CAP-03", "premium"));
        prospects.sendBody(enriched(4, "999.00", "TEE-01", null));
        prospects.sendBodyAndHeader(null, KafkaConstants.KEY, "4");

        prospectsTopic.assertIsSatisfied();
        List<String> records = prospectsTopic.getExchanges().stream()
                .flatMap(e -> e.getMessage().getBody(List.class).stream())
                .map(m -> ((Message) m).getHeader(KafkaConstants.KEY) + "=" + ((Message) m).getBody()).toList();
        assertEquals(List.of("1=" + enriched(1, "300.01", "CAP-03", "standard"), "4=" + enriched(4, "999.00", "TEE-01", null)),
                records);
    }

    @Test
    void aBadRecordOfABatchIsDeadLetteredAloneAndTheProspectsGoOn() throws Exception {
        prospectsTopic.expectedMessageCount(1);
        deadLetters.expectedMessageCount(1);
        deadLetters.expectedBodiesReceived("{\"order_id\":\"x\"}");
        salesTopic.expectedMessageCount(1);

        List<Exchange> batch = List.of(record(enriched(1, "500.00", "CAP-03", "standard"), "1"),
                record("{\"order_id\":\"x\"}", "2"), record(enriched(3, "700.00", "CAP-03", "standard"), "3"));
        prospects.sendBody(batch);

        MockEndpoint.assertIsSatisfied(prospectsTopic, deadLetters);
        assertEquals(2, prospectsTopic.getExchanges().get(0).getMessage().getBody(List.class).size());
        assertTrue(deadLetters.getExchanges().get(0).getMessage().getHeader(DeadLetter.ERROR, String.class)
                .startsWith("InvalidRecordException"));

        productSales.sendBody(batch); // the counts too go on without it
        salesTopic.assertIsSatisfied();
        assertEquals("CAP-03={\"product_code\":\"CAP-03\",\"order_count\":2}",
                ((Message) salesTopic.getExchanges().get(0).getMessage().getBody(List.class).get(0)).getHeader(KafkaConstants.KEY)
                + "=" + ((Message) salesTopic.getExchanges().get(0).getMessage().getBody(List.class).get(0)).getBody());
    }

    /** A record of a Kafka batch, as a batching kafka: consumer delivers it: an exchange of its own. */
    private Exchange record(String value, String key) {
        Exchange record = new DefaultExchange(prospects.getCamelContext());
        record.getMessage().setBody(value);
        record.getMessage().setHeader(KafkaConstants.KEY, key);
        return record;
    }

    @Test
    void countsCurrentOrdersPerProduct() throws Exception {
        salesTopic.expectedMessageCount(5);
        salesIndex.expectedMessageCount(5);

        order(1, "CAP-03");
        order(2, "CAP-03");
        order(2, "CAP-03"); // replayed: counts once
        order(2, "TEE-01"); // moved to another product
        productSales.sendBodyAndHeader(null, KafkaConstants.KEY, "1"); // deleted

        MockEndpoint.assertIsSatisfied(salesTopic, salesIndex);
        List<String> counts = salesTopic.getExchanges().stream()
                .flatMap(e -> e.getMessage().getBody(List.class).stream())
                .map(m -> ((Message) m).getHeader(KafkaConstants.KEY) + "=" + ((Message) m).getBody()).toList();
        assertEquals(List.of(
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":1}",
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":2}",
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":2}",
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":1}",
                "TEE-01={\"product_code\":\"TEE-01\",\"order_count\":1}",
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":0}"), counts);
        IndexOperation<?> last = ((IndexOperation.Builder<?>) salesIndex.getExchanges().get(4).getMessage()
                .getBody(List.class).get(0)).build();
        assertEquals("CAP-03", last.id());
        assertEquals("{\"product_code\":\"CAP-03\",\"order_count\":0}", Json.write(last.document()));
    }

    @Test
    void aChangeOlderThanTheOneCountedIsIgnored() throws Exception {
        salesTopic.expectedMessageCount(3);

        productSales.sendBodyAndHeaders(enriched(1, "10.00", "CAP-03", "standard"), versioned("1", 20));
        productSales.sendBodyAndHeaders(enriched(1, "10.00", "TEE-01", "standard"), versioned("1", 10)); // stale
        productSales.sendBodyAndHeaders(null, versioned("1", 15)); // a stale delete
        productSales.sendBodyAndHeaders(enriched(2, "10.00", "CAP-03", "standard"), versioned("2", 5));
        productSales.sendBodyAndHeaders(enriched(1, "10.00", "TEE-01", "standard"), versioned("1", 30)); // newer: moves

        salesTopic.assertIsSatisfied();
        List<String> counts = salesTopic.getExchanges().stream()
                .flatMap(e -> e.getMessage().getBody(List.class).stream())
                .map(m -> String.valueOf(((Message) m).getBody())).toList();
        assertEquals(List.of("{\"product_code\":\"CAP-03\",\"order_count\":1}",
                "{\"product_code\":\"CAP-03\",\"order_count\":2}",
                "{\"product_code\":\"CAP-03\",\"order_count\":1}", "{\"product_code\":\"TEE-01\",\"order_count\":1}"),
                counts);
    }

    private static java.util.Map<String, Object> versioned(String key, long version) {
        return java.util.Map.of(KafkaConstants.KEY, key, KafkaRecords.VERSION, String.valueOf(version).getBytes());
    }

    private void order(int id, String productCode) {
        productSales.sendBodyAndHeader(enriched(id, "10.00", productCode, "standard"), KafkaConstants.KEY, String.valueOf(id));
    }

    static String enriched(int id, String price, String productCode, String membership) {
        return "{\"order_id\":%d,\"price\":%s,\"product_code\":\"%s\",\"customer_id\":1,\"customer_name\":\"A\",\"customer_age\":30,\"customer_membership\":%s}"
                .formatted(id, price, productCode, membership == null ? "null" : "\"" + membership + "\"");
    }
}
