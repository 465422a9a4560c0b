package dev.streametl.routes;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import co.elastic.clients.elasticsearch.core.SearchRequest;
import co.elastic.clients.elasticsearch.core.search.Hit;
import co.elastic.clients.elasticsearch.core.search.HitsMetadata;
import com.fasterxml.jackson.databind.JsonNode;

import dev.streametl.App;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.CustomerRewrite;
import dev.streametl.pipeline.CustomerUpdates;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.KafkaRecords;
import dev.streametl.pipeline.Order;
import org.apache.camel.BeanInject;
import org.apache.camel.EndpointInject;
import org.apache.camel.Exchange;
import org.apache.camel.FluentProducerTemplate;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.caffeine.CaffeineConstants;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.main.MainConfigurationProperties;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.test.main.junit5.Configure;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.streametl.routes.OrderEnrichmentRoutesTest.customerChange;
import static dev.streametl.routes.OrderEnrichmentRoutesTest.orderChange;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class CustomerTableRoutesTest {

    @EndpointInject("direct:customers")
    ProducerTemplate customers;
    @EndpointInject("caffeine-cache:customers")
    FluentProducerTemplate table;
    @EndpointInject("mock:dead-letters")
    MockEndpoint deadLetters;
    @EndpointInject("direct:unmatched-orders")
    ProducerTemplate unmatchedOrders;
    @EndpointInject("mock:kafka-enriched-orders")
    MockEndpoint kafka;

    static final String UNMATCHED_8 = "{\"order_id\":8,\"customer_id\":99,\"price\":10.00,\"product_code\":\"PEN-05\"}";

    @Test
    void keepsTheLatestRowOfEachCustomer() {
        customers.sendBody(customerChange("r", 1, "Anna Berg", 41, "standard"));
        customers.sendBody(customerChange("r", 2, "Li Wei", 30, "premium"));
        customers.sendBody(customerChange("u", 1, "Anna Berg", 42, "premium"));

        assertEquals(new Customer(1, "Anna Berg", 42, "premium"), lookup(1).getMessage().getBody());
        assertEquals(new Customer(2, "Li Wei", 30, "premium"), lookup(2).getMessage().getBody());
    }

    @Test
    void forgetsADeletedCustomerAndIgnoresTheTombstone() {
        customers.sendBody(customerChange("r", 1, "Anna Berg", 41, "standard"));
        customers.sendBody("{\"before\":{\"id\":1,\"name\":\"Anna Berg\",\"age\":41,\"membership\":\"standard\"},"
                           + "\"after\":null,\"source\":{\"lsn\":2},\"op\":\"d\",\"ts_ms\":1}");
        customers.sendBodyAndHeader(null, KafkaConstants.KEY, "{\"id\":1}");

        assertFalse(lookup(1).getMessage().getHeader(CaffeineConstants.ACTION_HAS_RESULT, Boolean.class));
    }

    @Test
    void deadLettersARowOfTheWrongShape() throws Exception {
        deadLetters.expectedMessageCount(1);
        deadLetters.expectedHeaderReceived(DeadLetter.ROUTE, "customer-table");
        String bad = customerChange("c", 5, "Bo", 20, "standard").replace("\"age\":20", "\"age\":\"twenty\"");

        customers.sendBodyAndHeader(bad, KafkaConstants.OFFSET, 42L);

        deadLetters.assertIsSatisfied();
        assertEquals(bad, deadLetters.getExchanges().get(0).getMessage().getBody());
        assertEquals("42", deadLetters.getExchanges().get(0).getMessage().getHeader(DeadLetter.SOURCE_OFFSET));
    }

    @Test
    void neverAppliesARecordAgainWhenTheTopicIsReadAgain() {
        String v1 = customerChange("c", 1, "Anna Berg", 41, "standard");
        String v2 = customerChange("u", 1, "Anna Berg", 42, "premium");
        customers.sendBodyAndHeaders(v1, Map.of(KafkaConstants.PARTITION, 0, KafkaConstants.OFFSET, 0L));
        customers.sendBodyAndHeaders(v2, Map.of(KafkaConstants.PARTITION, 0, KafkaConstants.OFFSET, 1L));

        // a rejoin seeks to the beginning: the old version comes again, then a new change
        customers.sendBodyAndHeaders(v1, Map.of(KafkaConstants.PARTITION, 0, KafkaConstants.OFFSET, 0L));
        assertEquals(new Customer(1, "Anna Berg", 42, "premium"), lookup(1).getMessage().getBody());
        customers.sendBodyAndHeaders(v2, Map.of(KafkaConstants.PARTITION, 0, KafkaConstants.OFFSET, 1L));
        customers.sendBodyAndHeaders(customerChange("u", 1, "Anna Berg", 43, "premium"),
                Map.of(KafkaConstants.PARTITION, 0, KafkaConstants.OFFSET, 2L));

        assertEquals(new Customer(1, "Anna Berg", 43, "premium"), lookup(1).getMessage().getBody());
    }

    static Stream<Arguments> poison() {
        String good = customerChange("c", 5, "Bo", 20, "standard");
        return Stream.of(
                Arguments.of("the JSON literal null", "null", "the JSON literal null where ChangeEvent belongs"),
                Arguments.of("an empty value", "", "empty change record"),
                Arguments.of("a missing id", good.replace("\"id\":5,", ""), "id"),
                Arguments.of("a null id", good.replace("\"id\":5", "\"id\":null"), "id"),
                Arguments.of("a wrong type", good.replace("\"age\":20", "\"age\":\"twenty\""), "age"),
                Arguments.of("an unknown op", good.replace("\"op\":\"c\"", "\"op\":\"x\""), "unknown operation 'x'"),
                Arguments.of("a delete without its row", good.replace("\"op\":\"c\"", "\"op\":\"d\""), "no 'before' row"),
                Arguments.of("no position in the source", good.replaceAll("\"source\":\\{[^}]*\\}", "\"source\":{}"),
                        "source.lsn"),
                Arguments.of("an array", "[1]", ""),
                Arguments.of("a string", "\"x\"", ""),
                Arguments.of("a number", "42", ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poison")
    void deadLettersAPoisonRecordWithItsReasonAndOriginThenAppliesTheNextCustomer(String kind, String value,
            String reason) throws Exception {
        deadLetters.expectedMessageCount(1);

        customers.sendBodyAndHeaders(value, Map.of(KafkaConstants.TOPIC, "postgres.public.customers",
                KafkaConstants.PARTITION, 0, KafkaConstants.OFFSET, 7L));
        customers.sendBodyAndHeaders(customerChange("c", 6, "Cy", 30, "premium"), Map.of(KafkaConstants.TOPIC,
                "postgres.public.customers", KafkaConstants.PARTITION, 0, KafkaConstants.OFFSET, 8L));

        deadLetters.assertIsSatisfied();
        Message deadLetter = deadLetters.getExchanges().get(0).getMessage();
        assertEquals(value, deadLetter.getBody(String.class));
        String error = deadLetter.getHeader(DeadLetter.ERROR, String.class);
        assertTrue(error.startsWith("InvalidRecordException") && error.contains(reason), error);
        assertEquals("postgres.public.customers", deadLetter.getHeader(DeadLetter.SOURCE_TOPIC));
        assertEquals("0", deadLetter.getHeader(DeadLetter.SOURCE_PARTITION));
        assertEquals("7", deadLetter.getHeader(DeadLetter.SOURCE_OFFSET));
        assertEquals("customer-table", deadLetter.getHeader(DeadLetter.ROUTE));
        assertEquals(new Customer(6, "Cy", 30, "premium"), lookup(6).getMessage().getBody());
    }

    @Test
    void joinsAnUnmatchedOrderOnceItsCustomerArrives() throws Exception {
        kafka.expectedMessageCount(1);
        unmatchedOrders.sendBodyAndHeaders(UNMATCHED_8, Map.of(KafkaConstants.KEY, "8", KafkaRecords.VERSION, "1234"));
        kafka.setAssertPeriod(300);
        kafka.expectedMessageCount(0);
        kafka.assertIsSatisfied(); // its customer is not there yet
        kafka.reset();
        kafka.expectedMessageCount(1);

        customers.sendBody(customerChange("c", 99, "Late Comer", 30, "premium"));

        kafka.assertIsSatisfied();
        Message record = (Message) kafka.getExchanges().get(0).getMessage().getBody(List.class).get(0);
        assertEquals("8", record.getHeader(KafkaConstants.KEY));
        assertEquals("1234", record.getHeader(KafkaRecords.VERSION));
        assertEquals("{\"order_id\":8,\"price\":10.00,\"product_code\":\"PEN-05\",\"customer_id\":99,"
                     + "\"customer_name\":\"Late Comer\",\"customer_age\":30,\"customer_membership\":\"premium\"}",
                record.getBody());
    }

    /** The {@code current} mode: an updated customer's indexed orders are rewritten beside the table. */
    @Nested
    @CamelMainTest(mainClass = App.class, properties = "etl.enrich.customer-updates=current",
                   propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
    class InCurrentMode {

        @EndpointInject("direct:customers")
        ProducerTemplate customers;
        @EndpointInject("mock:elasticsearch-search")
        MockEndpoint search;
        @EndpointInject("mock:kafka-enriched-orders")
        MockEndpoint kafka;

        /** Orders 1 to PAGE + 20 of customer 3 indexed with its old row, each at version 1000 + its id. */
        final List<Integer> indexed = IntStream.rangeClosed(1, CustomerRewrite.PAGE + 20).boxed().toList();

        @Test
        void rewritesEachPageOfACustomersOrdersOnce() throws Exception {
            search.whenAnyExchangeReceived(this::answerLikeElasticsearch);
            search.expectedMessageCount(2);
            customers.sendBody(customerChange("c", 3, "Anna Berg", 41, "standard"));

            customers.sendBody(customerChange("u", 3, "Anna Berg", 42, "premium"));

            await().atMost(Duration.ofSeconds(20)).until(() -> rewritten().size() >= indexed.size());
            search.assertIsSatisfied();
            List<Message> records = rewritten();
            assertEquals(indexed.stream().map(String::valueOf).toList(),
                    records.stream().map(r -> r.getHeader(KafkaConstants.KEY, String.class)).toList(), "each order once");
            for (Message record : records) {
                int id = Integer.parseInt(record.getHeader(KafkaConstants.KEY, String.class));
                assertEquals(String.valueOf(1000 + id), record.getHeader(KafkaRecords.VERSION), "its version in the index");
                assertTrue(record.getBody(String.class).endsWith("\"customer_age\":42,\"customer_membership\":\"premium\"}"));
            }
        }

        @Test
        void aNewCustomerNeedsNoRewrite() throws Exception {
            search.whenAnyExchangeReceived(this::answerLikeElasticsearch);
            search.expectedMessageCount(0);
            search.setAssertPeriod(1000);

            customers.sendBody(customerChange("c", 3, "Anna Berg", 41, "standard"));
            customers.sendBody(customerChange("r", 4, "Li Wei", 30, "premium"));

            search.assertIsSatisfied();
        }

        private List<Message> rewritten() {
            return kafka.getExchanges().stream()
                    .flatMap(e -> e.getMessage().getBody(List.class).stream()).map(Message.class::cast).toList();
        }

        /** A page of stale orders after the search_after of the request, sorted by order id, with their versions. */
        private void answerLikeElasticsearch(Exchange exchange) {
            SearchRequest request = exchange.getMessage().getBody(SearchRequest.Builder.class).build();
            assertTrue(request.version(), "the search asks for versions");
            long after = request.searchAfter().isEmpty() ? 0 : request.searchAfter().get(0).longValue();
            List<Hit<JsonNode>> hits = indexed.stream().filter(id -> id > after).limit(request.size())
                    .map(id -> Hit.<JsonNode>of(h -> h.index("enriched_orders").id(String.valueOf(id)).version(1000L + id)
                            .source(Json.MAPPER.valueToTree(EnrichedOrder.of(new Order(id, 3, new BigDecimal("10.00"),
                                    "PEN-05"), new Customer(3, "Anna Berg", 41, "standard"), 0)))))
                    .toList();
            exchange.getMessage().setBody(HitsMetadata.<JsonNode>of(m -> m.hits(hits)));
        }
    }

    /**
     * The current mode with an Elasticsearch client of one I/O thread (the real client completes its requests on its
     * few I/O threads, and the route goes on there): a pass must never wait for an order batch on such a thread, or
     * the batch's bulk request, queued for that thread, never goes out. The backlog timer is a direct endpoint: the
     * test ticks it once.
     */
    @Nested
    @CamelMainTest(mainClass = App.class,
                   properties = { "etl.enrich.customer-updates=current", "etl.customers.backlog-timer=direct:backlog-tick",
                                  "etl.enrich.indexed-orders=direct:client-search",
                                  "etl.load.elasticsearch=direct:client-bulk" },
                   propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
    class WithOneClientThread {

        @EndpointInject("direct:customers")
        ProducerTemplate customers;
        @EndpointInject("direct:orders")
        ProducerTemplate orders;
        @EndpointInject("direct:backlog-tick")
        ProducerTemplate tick;
        @EndpointInject("mock:elasticsearch-search")
        MockEndpoint search;
        @EndpointInject("mock:elasticsearch-enriched-orders")
        MockEndpoint bulk;
        /** The searches sent, answered or not. */
        @EndpointInject("mock:search-requests")
        MockEndpoint searchRequests;
        @BeanInject(PipelineBeans.CUSTOMER_UPDATES)
        CustomerUpdates updates;

        final ExecutorService clientThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "client-io"));

        @Configure
        protected void configure(MainConfigurationProperties configuration) {
            // a lambda: the routes package is scanned for route builder classes, an anonymous one would be found
            configuration.addLambdaRouteBuilder(routes -> {
                routes.from("direct:client-search").to("mock:search-requests")
                        .threads().executorService(clientThread).to("mock:elasticsearch-search");
                routes.from("direct:client-bulk").threads().executorService(clientThread)
                        .to("mock:elasticsearch-enriched-orders");
            });
        }

        @AfterEach
        void stopClient() {
            clientThread.shutdownNow();
        }

        @Test
        void aPassWaitingForAnOrderBatchNeverHoldsTheClientThreadTheBatchNeeds() throws Exception {
            search.expectedMessageCount(2);
            bulk.expectedMessageCount(1);
            CountDownLatch answer = startPassesHeldInTheirFirstSearch();
            // an order batch under way: it waits for customer 77 (1 s), then writes order 7 through the client's thread
            long batches = updates.batchesStarted();
            orders.asyncSendBody(orders.getDefaultEndpoint(), List.of(
                    orderRecord(orderChange("c", 7, 3, "10.00", "PEN-05")), orderRecord(orderChange("c", 8, 77, "10.00", "PEN-05"))));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.batchesStarted() > batches);
            // pass 2 (customer 3 updated) must wait for that batch: it may have joined the old row
            customers.sendBody(customerChange("u", 3, "Anna Berg", 42, "premium"));
            answer.countDown();

            bulk.assertIsSatisfied(10_000);
            search.assertIsSatisfied(10_000);
        }

        @Test
        void aTickWhilePassesRunStartsNoSecondRun() throws Exception {
            CountDownLatch answer = startPassesHeldInTheirFirstSearch();

            customers.sendBody(customerChange("u", 3, "Anna Berg", 42, "premium"));
            tick.sendBody(null); // a second run would take customer 3 and search beside the first

            searchRequests.setAssertPeriod(500);
            searchRequests.expectedMessageCount(1);
            searchRequests.assertIsSatisfied();
            answer.countDown();
            // customer 3 is not lost: the first run's next pass searches its orders
            await().atMost(Duration.ofSeconds(10)).until(() -> searchRequests.getReceivedCounter() == 2);
        }

        /**
         * Customers 3 and 5, then 5 updated and one tick: a run of passes whose first search (customer 5) is answered on
         * the client's thread, and the passes go on there, once the returned latch is counted down; every search
         * answered with no stale order.
         */
        private CountDownLatch startPassesHeldInTheirFirstSearch() throws InterruptedException {
            CountDownLatch searching = new CountDownLatch(1);
            CountDownLatch answer = new CountDownLatch(1);
            search.whenAnyExchangeReceived(e -> {
                if (searching.getCount() > 0) {
                    searching.countDown();
                    assertTrue(answer.await(20, TimeUnit.SECONDS));
                }
                e.getMessage().setBody(HitsMetadata.<JsonNode>of(m -> m.hits(List.of())));
            });
            customers.sendBody(customerChange("c", 3, "Anna Berg", 41, "standard"));
            customers.sendBody(customerChange("c", 5, "Li Wei", 30, "premium"));
            customers.sendBody(customerChange("u", 5, "Li Wei", 31, "premium"));
            tick.asyncSendBody(tick.getDefaultEndpoint(), null);
            assertTrue(searching.await(10, TimeUnit.SECONDS));
            return answer;
        }

        private Exchange orderRecord(String value) {
            Exchange record = new DefaultExchange(orders.getCamelContext());
            record.getMessage().setBody(value);
            return record;
        }
    }

    private Exchange lookup(int id) {
        return table.withHeader(CaffeineConstants.ACTION, CaffeineConstants.ACTION_GET)
                .withHeader(CaffeineConstants.KEY, id).send();
    }
}
