package dev.streametl.routes;

import java.util.List;

import co.elastic.clients.elasticsearch.core.bulk.IndexOperation;
import dev.streametl.App;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.TableTruncation;
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
    @EndpointInject("direct:product-sales-state")
    ProducerTemplate productSalesState;
    @EndpointInject("mock:kafka-product-sales-state")
    MockEndpoint stateTopic;
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

        List<Exchange> batch = List.of(record(enriched(1, "500.00", "CAP-03", "standard"), "1"),
                record("{\"order_id\":\"x\"}", "2"), record(enriched(3, "700.00", "CAP-03", "standard"), "3"));
        prospects.sendBody(batch);

        MockEndpoint.assertIsSatisfied(prospectsTopic, deadLetters);
        assertEquals(2, prospectsTopic.getExchanges().get(0).getMessage().getBody(List.class).size());
        assertTrue(deadLetters.getExchanges().get(0).getMessage().getHeader(DeadLetter.ERROR, String.class)
                .startsWith("InvalidRecordException"));
    }

    @Test
    void anUpdateWithoutItsRowBeforeIsDeadLetteredAloneAndTheCountsGoOn() throws Exception {
        deadLetters.expectedMessageCount(1);
        String noRowBefore = change("u", 2, null, "TEE-01", 1, 12);

        count(List.of(record(change("c", 1, null, "CAP-03", 1, 10), "1"), record("{\"order_id\":\"x\"}", "2"),
                record(noRowBefore, "2"), record(change("c", 3, null, "CAP-03", 1, 13), "3")));

        deadLetters.assertIsSatisfied();
        Message deadLetter = deadLetters.getExchanges().get(0).getMessage();
        assertEquals(noRowBefore, deadLetter.getBody(String.class), "not the record that is no change: the enrichment's");
        assertEquals("product-sales", deadLetter.getHeader(DeadLetter.ROUTE));
        assertTrue(deadLetter.getHeader(DeadLetter.ERROR, String.class).contains("REPLICA IDENTITY FULL"));
        assertEquals(List.of("CAP-03={\"product_code\":\"CAP-03\",\"order_count\":2}"), published());
    }

    /** A record of a Kafka batch, as a batching kafka: consumer delivers it: an exchange of its own. */
    private Exchange record(String value, String key) {
        Exchange record = new DefaultExchange(prospects.getCamelContext());
        record.getMessage().setBody(value);
        record.getMessage().setHeader(KafkaConstants.KEY, key);
        return record;
    }

    @Test
    void countsCurrentOrdersPerProductFromTheirChanges() throws Exception {
        count(change("c", 1, null, "CAP-03", 1, 10));
        count(change("c", 2, null, "CAP-03", 1, 11));
        count(change("c", 2, null, "CAP-03", 1, 11)); // sent again by the capture (same position): counts once
        count(change("u", 2, "CAP-03", "TEE-01", 12, 13)); // moved to another product
        count(change("d", 1, "CAP-03", null, 14, 15)); // deleted
        count((String) null); // its tombstone: nothing

        assertEquals(List.of(
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":1}",
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":2}",
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":1}",
                "TEE-01={\"product_code\":\"TEE-01\",\"order_count\":1}",
                "CAP-03={\"product_code\":\"CAP-03\",\"order_count\":0}"), published());
        IndexOperation<?> last = ((IndexOperation.Builder<?>) salesIndex.getExchanges().get(salesIndex.getExchanges().size() - 1)
                .getMessage().getBody(List.class).get(0)).build();
        assertEquals("CAP-03", last.id());
        assertEquals("{\"product_code\":\"CAP-03\",\"order_count\":0}", Json.write(last.document()));
        assertEquals(4, last.version(), "versioned by the state record the sums come from: the fifth (the tombstone's sixth moved no sum)");
    }

    @Test
    void aSnapshotTakenAgainStartsTheCountsOverAndATruncateEmptiesThem() throws Exception {
        count(snapshotRow(1, "CAP-03", 700));
        count(snapshotRow(2, "CAP-03", 700)); // the snapshot is interrupted here (a crash), and taken again:
        count(snapshotRow(1, "CAP-03", 701));
        count(snapshotRow(2, "CAP-03", 701));
        count(snapshotRow(3, "TEE-01", 701));
        assertEquals("CAP-03={\"product_code\":\"CAP-03\",\"order_count\":2}", lastOf("CAP-03"));

        Exchange truncated = record(change("d", 1, "CAP-03", null, 20, 21), "1");
        truncated.getMessage().setHeader(TableTruncation.TRUNCATED, "true".getBytes());
        Exchange second = record(change("d", 2, "CAP-03", null, 20, 21), "2");
        second.getMessage().setHeader(TableTruncation.TRUNCATED, "true".getBytes());
        count(List.of(truncated, second)); // every delete of a TRUNCATE at its position: the counts emptied once
        count(change("c", 4, null, "CAP-03", 20, 30));

        assertEquals("CAP-03={\"product_code\":\"CAP-03\",\"order_count\":1}", lastOf("CAP-03"));
        assertEquals("TEE-01={\"product_code\":\"TEE-01\",\"order_count\":0}", lastOf("TEE-01"));
    }

    private long stateOffset;

    /** Counts a batch of order changes, then hands the state records it stored to the state route, as Kafka would. */
    private void count(List<Exchange> batch) {
        int stored = stateTopic.getReceivedCounter();
        productSales.sendBody(batch);
        for (Exchange state : stateTopic.getExchanges().subList(stored, stateTopic.getReceivedCounter())) {
            for (Object record : state.getMessage().getBody(List.class)) {
                productSalesState.sendBodyAndHeaders(((Message) record).getBody(),
                        java.util.Map.of(KafkaConstants.KEY, ((Message) record).getHeader(KafkaConstants.KEY),
                                KafkaConstants.OFFSET, stateOffset++));
            }
        }
    }

    private void count(String change) {
        count(List.of(record(change, "k")));
    }

    /** What was published on the product sales topic, in order: key=value. */
    private List<String> published() {
        return salesTopic.getExchanges().stream()
                .flatMap(e -> e.getMessage().getBody(List.class).stream())
                .map(m -> ((Message) m).getHeader(KafkaConstants.KEY) + "=" + ((Message) m).getBody()).toList();
    }

    private String lastOf(String productCode) {
        List<String> of = published().stream().filter(record -> record.startsWith(productCode + "=")).toList();
        return of.get(of.size() - 1);
    }

    /** A change of the orders table as the capture writes it, at position [lastCommit, lsn] in the log. */
    static String change(String op, int id, String before, String after, long lastCommit, long lsn) {
        return "{\"before\":%s,\"after\":%s,\"source\":{\"lsn\":%d,\"sequence\":\"[\\\"%d\\\",\\\"%d\\\"]\",\"txId\":5},\"op\":\"%s\",\"ts_ms\":0}"
                .formatted(row(id, before), row(id, after), lsn, lastCommit, lsn, op);
    }

    private static String snapshotRow(int id, String productCode, long txId) {
        return "{\"before\":null,\"after\":%s,\"source\":{\"lsn\":500,\"txId\":%d,\"snapshot\":\"true\"},\"op\":\"r\",\"ts_ms\":0}"
                .formatted(row(id, productCode), txId);
    }

    private static String row(int id, String productCode) {
        return productCode == null ? "null"
                : "{\"order_id\":%d,\"customer_id\":1,\"price\":10.00,\"product_code\":\"%s\"}".formatted(id, productCode);
    }

    static String enriched(int id, String price, String productCode, String membership) {
        return "{\"order_id\":%d,\"price\":%s,\"product_code\":\"%s\",\"customer_id\":1,\"customer_name\":\"A\",\"customer_age\":30,\"customer_membership\":%s}"
                .formatted(id, price, productCode, membership == null ? "null" : "\"" + membership + "\"");
    }
}
