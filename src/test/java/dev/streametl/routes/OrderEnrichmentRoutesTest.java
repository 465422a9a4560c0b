package dev.streametl.routes;

import java.util.Arrays;
import java.util.List;

import co.elastic.clients.elasticsearch._types.ErrorCause;
import co.elastic.clients.elasticsearch._types.VersionType;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.core.bulk.BulkResponseItem;
import co.elastic.clients.elasticsearch.core.bulk.DeleteOperation;
import co.elastic.clients.elasticsearch.core.bulk.IndexOperation;
import co.elastic.clients.elasticsearch.core.bulk.OperationType;
import dev.streametl.App;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.EnrichedOrder;
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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class OrderEnrichmentRoutesTest {

    /** The position in the source of the changes the tests make up: each one after the one before. */
    static final java.util.concurrent.atomic.AtomicLong LSN = new java.util.concurrent.atomic.AtomicLong(1000);

    static final String ANNA = customerChange("c", 3, "Anna Berg", 41, "standard");
    static final String ENRICHED_7 = "{\"order_id\":7,\"price\":412.50,\"product_code\":\"MUG-02\",\"customer_id\":3,"
                                     + "\"customer_name\":\"Anna Berg\",\"customer_age\":41,"
                                     + "\"customer_membership\":\"standard\"}";

    @EndpointInject("direct:customers")
    ProducerTemplate customers;
    @EndpointInject("direct:orders")
    ProducerTemplate orders;
    @EndpointInject("mock:kafka-enriched-orders")
    MockEndpoint kafka;
    @EndpointInject("mock:elasticsearch-enriched-orders")
    MockEndpoint elasticsearch;
    @EndpointInject("mock:unmatched")
    MockEndpoint unmatched;
    @EndpointInject("mock:dead-letters")
    MockEndpoint deadLetters;
    /** The bulk requests the mock Elasticsearch received, as the real producer would build them. */
    final List<BulkRequest> bulkRequests = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Test
    void joinsAnOrderWithItsCustomer() throws Exception {
        kafka.expectedMessageCount(1);
        elasticsearch.expectedMessageCount(1);
        customers.sendBody(ANNA);

        orders.sendBody(orderChange("c", 7, 3, "412.50", "MUG-02"));

        MockEndpoint.assertIsSatisfied(kafka, elasticsearch);
        Message record = onlyRecord(kafka);
        assertEquals("7", record.getHeader(KafkaConstants.KEY));
        assertEquals(ENRICHED_7, record.getBody());
        IndexOperation<?> index = assertInstanceOf(IndexOperation.Builder.class, onlyOperation()).build();
        assertEquals("7", index.id());
        assertEquals(ENRICHED_7, Json.write(index.document()));
    }

    @Test
    void writesEachOrderWithThePositionOfItsChangeAsItsVersion() throws Exception {
        kafka.expectedMessageCount(1);
        elasticsearch.expectedMessageCount(1);
        customers.sendBody(ANNA);
        String change = orderChange("u", 7, 3, "412.50", "MUG-02");
        long position = Json.read(change, com.fasterxml.jackson.databind.JsonNode.class).path("source").path("lsn").asLong();

        orders.sendBody(change);

        MockEndpoint.assertIsSatisfied(kafka, elasticsearch);
        IndexOperation<?> index = assertInstanceOf(IndexOperation.Builder.class, onlyOperation()).build();
        assertEquals(position, index.version());
        assertEquals(VersionType.ExternalGte, index.versionType());
        assertEquals(String.valueOf(position), onlyRecord(kafka).getHeader(KafkaRecords.VERSION));
    }

    @Test
    void aWriteElasticsearchFindsOlderThanItsDocumentIsDoneNotDeadLettered() throws Exception {
        elasticsearch.expectedMessageCount(1);
        kafka.expectedMessageCount(1);
        deadLetters.expectedMessageCount(0);
        customers.sendBody(ANNA);
        elasticsearch.whenExchangeReceived(1, e -> answer(e, item("7", 409, "version_conflict_engine_exception",
                "[7]: version conflict, current version [900] is higher than or equal to the one provided [800]")));

        orders.sendBody(orderChange("c", 7, 3, "412.50", "MUG-02"));

        MockEndpoint.assertIsSatisfied(elasticsearch, kafka, deadLetters);
        assertEquals(1, bulkRequests.size(), "not sent again: something newer is there");
    }

    @Test
    void commitsTheOffsetsOfABatchOnlyOnceKafkaHasAcknowledgedIt() throws Exception {
        java.util.concurrent.atomic.AtomicInteger commits = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger commitsWhenKafkaFailed = new java.util.concurrent.atomic.AtomicInteger(-1);
        kafka.whenExchangeReceived(1, e -> {
            commitsWhenKafkaFailed.set(commits.get());
            throw new java.net.ConnectException("Connection refused"); // Kafka away: the batch waits, uncommitted
        });
        kafka.expectedMessageCount(2);
        customers.sendBody(ANNA);
        Exchange record = record(orderChange("c", 7, 3, "412.50", "MUG-02"));
        record.getMessage().setHeader(KafkaConstants.MANUAL_COMMIT,
                (org.apache.camel.component.kafka.consumer.KafkaManualCommit) commits::incrementAndGet);
        record.getMessage().setHeader(KafkaConstants.TOPIC, "postgres.public.orders");
        record.getMessage().setHeader(KafkaConstants.PARTITION, 0);

        orders.sendBody(List.of(record));

        kafka.assertIsSatisfied();
        assertEquals(0, commitsWhenKafkaFailed.get(), "nothing committed while Kafka had not acknowledged the batch");
        assertEquals(1, commits.get(), "committed once acknowledged");
    }

    @Test
    void sendsAgainAnItemElasticsearchFailedWithA5xx() throws Exception {
        elasticsearch.expectedMessageCount(2);
        deadLetters.expectedMessageCount(0);
        customers.sendBody(ANNA);
        elasticsearch.whenExchangeReceived(1, e -> answer(e, item("7", 503, "unavailable_shards_exception", "primary shard is not active")));
        elasticsearch.whenExchangeReceived(2, e -> answer(e, item("7", 201, null, null)));

        orders.sendBody(orderChange("c", 7, 3, "412.50", "MUG-02"));

        MockEndpoint.assertIsSatisfied(elasticsearch, deadLetters);
        assertEquals(List.of("7"), bulkRequests.get(1).operations().stream().map(o -> o.index().id()).toList());
    }

    @Test
    void aBatchThatStartsWithABadRecordIsStillLoaded() throws Exception {
        // the first record's exchange must not become the batch: dead-lettered, it would end the route after the split
        kafka.expectedMessageCount(1);
        elasticsearch.expectedMessageCount(1);
        deadLetters.expectedMessageCount(1);
        customers.sendBody(ANNA);

        orders.sendBody(List.of(record("not json"), record(orderChange("c", 7, 3, "412.50", "MUG-02"))));

        MockEndpoint.assertIsSatisfied(kafka, elasticsearch, deadLetters);
        assertEquals(ENRICHED_7, onlyRecord(kafka).getBody());
    }

    @Test
    void aBadRecordWhoseDeadLetterFailsIsTriedAgainNotDropped() throws Exception {
        // the dead letter endpoint fails once: the batch must fail with it and run again, not be loaded without it
        deadLetters.whenExchangeReceived(1, e -> {
            throw new IllegalStateException("dead letter topic unreachable");
        });
        deadLetters.expectedMessageCount(2);
        kafka.expectedMinimumMessageCount(1);
        customers.sendBody(ANNA);

        orders.sendBody(List.of(record(orderChange("c", 7, 3, "412.50", "MUG-02")), record("not json")));

        MockEndpoint.assertIsSatisfied(kafka, deadLetters);
        assertEquals("not json", deadLetters.getReceivedExchanges().get(1).getMessage().getBody());
    }

    @Test
    void theOrphansOfABatchShareOneWait() throws Exception {
        // five orders of unknown customers, a wait of 1 s (unit-test.properties): one after the other they would take 5 s
        unmatched.expectedMessageCount(5);
        List<Exchange> batch = new java.util.ArrayList<>();
        for (int order = 1; order <= 5; order++) {
            batch.add(record(orderChange("c", order, 90 + order, "10.00", "PEN-05")));
        }

        long start = System.nanoTime();
        orders.sendBody(batch);
        long millis = (System.nanoTime() - start) / 1_000_000;

        unmatched.assertIsSatisfied();
        assertTrue(millis < 3000, "the batch took " + millis + " ms: its orders waited one after the other");
    }

    /** A record of a Kafka batch, as a batching kafka: consumer delivers it: an exchange of its own. */
    private Exchange record(String value) {
        Exchange record = new DefaultExchange(orders.getCamelContext());
        record.getMessage().setBody(value);
        return record;
    }

    @Test
    void usesTheLatestCustomerRow() throws Exception {
        kafka.expectedMessageCount(1);
        customers.sendBody(ANNA);
        customers.sendBody(customerChange("u", 3, "Anna Berg", 42, "premium"));

        orders.sendBody(orderChange("r", 7, 3, "412.50", "MUG-02"));

        kafka.assertIsSatisfied();
        assertTrue(onlyRecord(kafka).getBody(String.class).endsWith("\"customer_age\":42,\"customer_membership\":\"premium\"}"));
    }

    @Test
    void deletesAnOrderFromBothSinks() throws Exception {
        kafka.expectedMessageCount(1);
        elasticsearch.expectedMessageCount(1);

        orders.sendBody("{\"before\":{\"order_id\":7,\"customer_id\":3,\"price\":412.50,\"product_code\":\"MUG-02\"},"
                        + "\"after\":null,\"source\":{\"lsn\":" + LSN.incrementAndGet() + "},\"op\":\"d\",\"ts_ms\":1}");

        MockEndpoint.assertIsSatisfied(kafka, elasticsearch);
        Message tombstone = onlyRecord(kafka);
        assertEquals("7", tombstone.getHeader(KafkaConstants.KEY));
        assertNull(tombstone.getBody());
        assertEquals("7", assertInstanceOf(DeleteOperation.Builder.class, onlyOperation()).build().id());
    }

    @Test
    void waitsForACustomerThatArrivesLate() throws Exception {
        kafka.expectedMessageCount(1);
        unmatched.expectedMessageCount(0);
        Thread customerArrives = new Thread(() -> {
            try {
                Thread.sleep(150); // the scenario: the customer comes after its order (not a wait for a result)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            customers.sendBody(ANNA);
        });
        customerArrives.start();

        orders.sendBody(orderChange("c", 7, 3, "412.50", "MUG-02"));

        customerArrives.join();
        MockEndpoint.assertIsSatisfied(kafka, unmatched);
        assertEquals(ENRICHED_7, onlyRecord(kafka).getBody());
    }

    @Test
    void sendsAnOrderWithoutCustomerToUnmatchedOnceTheWaitIsOver() throws Exception {
        unmatched.expectedMessageCount(1);
        unmatched.expectedHeaderReceived(DeadLetter.ERROR, "customer 99 not found");
        unmatched.expectedHeaderReceived(KafkaConstants.KEY, "8");
        kafka.expectedMessageCount(0);

        orders.sendBody(orderChange("c", 8, 99, "10.00", "PEN-05"));

        MockEndpoint.assertIsSatisfied(unmatched, kafka);
        assertEquals("{\"order_id\":8,\"customer_id\":99,\"price\":10.00,\"product_code\":\"PEN-05\"}",
                unmatched.getExchanges().get(0).getMessage().getBody(String.class));
    }

    @Test
    void deadLettersWhatItCannotReadAndGoesOn() throws Exception {
        deadLetters.expectedMessageCount(4);
        kafka.expectedMessageCount(1);
        customers.sendBody(ANNA);

        orders.sendBody("not json");
        orders.sendBody("{\"before\":null,\"after\":null,\"source\":{},\"op\":\"c\",\"ts_ms\":1}");
        orders.sendBody(orderChange("c", 9, 3, "12.00", "MUG-02").replace("\"customer_id\":3", "\"customer_id\":\"3\""));
        orders.sendBody(orderChange("x", 10, 3, "12.00", "MUG-02"));
        orders.sendBody(orderChange("c", 7, 3, "412.50", "MUG-02"));

        MockEndpoint.assertIsSatisfied(deadLetters, kafka);
        List<String> reasons = deadLetters.getExchanges().stream()
                .map(e -> e.getMessage().getHeader(DeadLetter.ERROR, String.class)).toList();
        assertTrue(reasons.get(0).startsWith("InvalidRecordException: Unrecognized token 'not'"), reasons.get(0));
        assertEquals("InvalidRecordException: no 'after' row in a change with op 'c'", reasons.get(1));
        assertTrue(reasons.get(2).contains("customer_id"), reasons.get(2));
        assertEquals("InvalidRecordException: unknown operation 'x' (expected one of c, r, u, d)", reasons.get(3));
        assertEquals("not json", deadLetters.getExchanges().get(0).getMessage().getBody(String.class));
        assertEquals("enrich-order", deadLetters.getExchanges().get(0).getMessage().getHeader(DeadLetter.ROUTE));
        assertEquals(ENRICHED_7, onlyRecord(kafka).getBody());
    }

    @Test
    void sendsAgainWhatElasticsearchCouldNotTakeAndDeadLettersWhatItRejected() throws Exception {
        elasticsearch.expectedMessageCount(2);
        deadLetters.expectedMessageCount(1);
        kafka.expectedMessageCount(1);
        customers.sendBody(ANNA);
        // first answer: order 7 must wait (429), order 8 is refused (400), order 9 is written; second answer: 7 written
        elasticsearch.whenExchangeReceived(1, e -> answer(e, item("7", 429, "es_rejected_execution_exception", "rejected"),
                item("8", 400, "document_parsing_exception", "failed to parse field [customer_age]"),
                item("9", 201, null, null)));
        elasticsearch.whenExchangeReceived(2, e -> answer(e, item("7", 201, null, null)));

        orders.sendBody(batch(orderChange("c", 7, 3, "412.50", "MUG-02"), orderChange("c", 8, 3, "1.00", "PEN-05"),
                orderChange("c", 9, 3, "2.00", "HAT-06")));

        MockEndpoint.assertIsSatisfied(elasticsearch, deadLetters, kafka);
        assertEquals(3, bulkRequests.get(0).operations().size());
        assertEquals(List.of("7"), bulkRequests.get(1).operations().stream().map(o -> o.index().id()).toList());
        Message deadLetter = deadLetters.getExchanges().get(0).getMessage();
        assertEquals("Elasticsearch rejected document 8 (HTTP 400): document_parsing_exception: failed to parse field "
                     + "[customer_age]", deadLetter.getHeader(DeadLetter.ERROR));
        assertTrue(deadLetter.getBody(String.class).startsWith("{\"order_id\":8,"), deadLetter.getBody(String.class));
        assertEquals(3, kafka.getExchanges().get(0).getMessage().getBody(List.class).size());
    }

    @Test
    void sendsTheWholeBulkAgainWhenElasticsearchCannotBeReached() throws Exception {
        elasticsearch.expectedMessageCount(3);
        kafka.expectedMessageCount(1);
        customers.sendBody(ANNA);
        elasticsearch.whenExchangeReceived(1, e -> {
            answer(e);
            throw new java.net.ConnectException("Connection refused");
        });
        elasticsearch.whenExchangeReceived(2, e -> {
            answer(e);
            throw new java.net.ConnectException("Connection refused");
        });
        elasticsearch.whenExchangeReceived(3, e -> answer(e, item("7", 201, null, null)));

        orders.sendBody(orderChange("c", 7, 3, "412.50", "MUG-02"));

        MockEndpoint.assertIsSatisfied(elasticsearch, kafka);
        assertEquals(ENRICHED_7, onlyRecord(kafka).getBody());
        assertEquals(3, bulkRequests.size(), "each attempt is a bulk request of its own");
    }

    @Test
    void writesOnlyTheLastChangeOfAnOrderInABatchToElasticsearch() throws Exception {
        elasticsearch.expectedMessageCount(1);
        kafka.expectedMessageCount(1);
        customers.sendBody(ANNA);

        orders.sendBody(batch(orderChange("c", 7, 3, "412.50", "MUG-02"), orderChange("u", 7, 3, "99.00", "CAP-03")));

        MockEndpoint.assertIsSatisfied(elasticsearch, kafka);
        IndexOperation<?> index = assertInstanceOf(IndexOperation.Builder.class, onlyOperation()).build();
        assertEquals("CAP-03", Json.read(Json.write(index.document()), EnrichedOrder.class).productCode());
        assertEquals(2, kafka.getExchanges().get(0).getMessage().getBody(List.class).size(), "the topic gets every change");
    }

    /** A batch as a batching kafka: consumer delivers it: a list of exchanges, one per record. */
    private List<Exchange> batch(String... records) {
        return Arrays.stream(records).map(record -> {
            Exchange exchange = new DefaultExchange(orders.getCamelContext());
            exchange.getMessage().setBody(record);
            return exchange;
        }).toList();
    }

    /** Reads the bulk request as the elasticsearch: producer would (its builders can be built once), then answers. */
    private void answer(Exchange exchange, BulkResponseItem... items) {
        bulkRequests.add(exchange.getContext().getTypeConverter()
                .convertTo(BulkRequest.Builder.class, exchange, exchange.getMessage().getBody()).build());
        exchange.getMessage().setBody(List.of(items));
    }

    private static BulkResponseItem item(String id, int status, String errorType, String reason) {
        return BulkResponseItem.of(item -> {
            item.operationType(OperationType.Index).index("enriched_orders").id(id).status(status);
            if (errorType != null) {
                item.error(ErrorCause.of(error -> error.type(errorType).reason(reason)));
            }
            return item;
        });
    }

    static String customerChange(String op, int id, String name, int age, String membership) {
        return "{\"before\":null,\"after\":{\"id\":%d,\"name\":\"%s\",\"age\":%d,\"membership\":\"%s\"},\"source\":{\"lsn\":%d},\"op\":\"%s\",\"ts_ms\":1}"
                .formatted(id, name, age, membership, LSN.incrementAndGet(), op);
    }

    static String orderChange(String op, int id, int customerId, String price, String productCode) {
        return "{\"before\":null,\"after\":{\"order_id\":%d,\"customer_id\":%d,\"price\":%s,\"product_code\":\"%s\"},\"source\":{\"lsn\":%d},\"op\":\"%s\",\"ts_ms\":1}"
                .formatted(id, customerId, price, productCode, LSN.incrementAndGet(), op);
    }

    private static Message onlyRecord(MockEndpoint endpoint) {
        List<?> records = endpoint.getExchanges().get(0).getMessage().getBody(List.class);
        assertEquals(1, records.size());
        return (Message) records.get(0);
    }

    private Object onlyOperation() {
        List<?> operations = elasticsearch.getExchanges().get(0).getMessage().getBody(List.class);
        assertEquals(1, operations.size());
        return operations.get(0);
    }
}
