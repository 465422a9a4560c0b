package dev.streametl.routes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import co.elastic.clients.elasticsearch._types.VersionType;
import co.elastic.clients.elasticsearch.core.bulk.DeleteOperation;
import co.elastic.clients.elasticsearch.core.bulk.IndexOperation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.streametl.App;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.EnrichedOrderChange;
import dev.streametl.pipeline.Json;
import dev.streametl.pipeline.OrderDeletion;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load stage's bulk write through the real elasticsearch component and client, to an HTTP server that keeps what
 * it is sent and answers as Elasticsearch does: the request body is byte for byte the one the client made when it
 * wrote each EnrichedOrder itself, each document is the JSON of the order's Kafka record, and a rejected document
 * still reaches the dead letter endpoint with its JSON.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoadBulkBodyTest {

    private static final String BULK_ENDPOINT = "elasticsearch:streaming-etl?operation=Bulk&indexName=enriched_orders";

    static final List<EnrichedOrder> ORDERS = List.of(
            order(7, "412.50", "MUG-02", new Customer(3, "Anna Berg", 41, "standard")),
            order(8, "10.00", "PEN-05", new Customer(4, null, null, null)), // a customer with nulls
            order(9, "1E+3", "CAP-03", new Customer(5, "Zoë \"Z\" Ångström \\ 李", 0, "premium")),
            order(10, "0.0000001", "HAT-06", null));

    /** The bulk request bodies the server received, in order. */
    final List<byte[]> bulks = new CopyOnWriteArrayList<>();
    /** Ids the server refuses, as Elasticsearch refuses a document its mapping cannot take. */
    volatile Set<String> refused = Set.of();
    HttpServer server;
    Main pipeline;

    static EnrichedOrder order(int id, String price, String productCode, Customer customer) {
        return new EnrichedOrder(id, new BigDecimal(price), productCode, customer, 2000 + id);
    }

    @BeforeAll
    void startPipelineOnAnElasticsearchThatKeepsItsRequests() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::answer);
        server.start();
        pipeline = new Main(App.class);
        Properties unitTest = new Properties();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("unit-test.properties")) {
            unitTest.load(in);
        }
        unitTest.forEach((key, value) -> pipeline.addOverrideProperty((String) key, (String) value));
        pipeline.addOverrideProperty("etl.load.elasticsearch", BULK_ENDPOINT);
        pipeline.addOverrideProperty("etl.elasticsearch.url", "http://127.0.0.1:" + server.getAddress().getPort());
        pipeline.start();
    }

    @AfterAll
    void stop() {
        if (pipeline != null) {
            pipeline.stop();
        }
        if (server != null) {
            server.stop(0);
        }
    }

    @BeforeEach
    void forget() {
        bulks.clear();
        refused = Set.of();
        MockEndpoint.resetMocks(pipeline.getCamelContext());
    }

    @Test
    void theBulkBodyIsByteForByteTheOneTheClientMadeFromTheOrdersAndEachDocumentIsItsKafkaValue() throws Exception {
        List<EnrichedOrderChange> batch = new ArrayList<>(ORDERS);
        batch.add(new OrderDeletion(11, 2011));
        MockEndpoint kafka = pipeline.getCamelContext().getEndpoint("mock:kafka-enriched-orders", MockEndpoint.class);
        kafka.expectedMessageCount(1);
        try (ProducerTemplate template = pipeline.getCamelContext().createProducerTemplate()) {
            // before: the operations as the load stage made them, each document an EnrichedOrder the client writes
            template.sendBody(BULK_ENDPOINT, operationsAsBefore(batch));
            // now: the load stage's own route, each document the JSON it made once for both sinks
            template.sendBody("direct:load-enriched-orders", batch);
        }

        kafka.assertIsSatisfied();
        assertEquals(2, bulks.size());
        assertArrayEquals(bulks.get(0), bulks.get(1), () -> "before:\n" + text(bulks.get(0)) + "now:\n" + text(bulks.get(1)));
        List<byte[]> documents = documents(bulks.get(1));
        List<?> records = kafka.getExchanges().get(0).getMessage().getBody(List.class);
        assertEquals(ORDERS.size(), documents.size());
        for (int i = 0; i < ORDERS.size(); i++) {
            byte[] kafkaValue = ((String) ((Message) records.get(i)).getBody()).getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(kafkaValue, documents.get(i), "order " + ORDERS.get(i).orderId());
        }
    }

    @Test
    void aDocumentElasticsearchRefusesGoesToTheDeadLettersWithItsJson() throws Exception {
        refused = Set.of("8");
        MockEndpoint deadLetters = pipeline.getCamelContext().getEndpoint("mock:dead-letters", MockEndpoint.class);
        deadLetters.expectedMessageCount(1);
        try (ProducerTemplate template = pipeline.getCamelContext().createProducerTemplate()) {
            template.sendBody("direct:load-enriched-orders", List.copyOf(ORDERS));
        }

        deadLetters.assertIsSatisfied();
        Message deadLetter = deadLetters.getExchanges().get(0).getMessage();
        assertEquals(Json.write(ORDERS.get(1)), deadLetter.getBody(String.class));
        assertTrue(deadLetter.getHeader(DeadLetter.ERROR, String.class).startsWith("Elasticsearch rejected document 8 (HTTP 400)"),
                deadLetter.getHeader(DeadLetter.ERROR, String.class));
        assertEquals(1, bulks.size(), "a refused document is not sent again");
    }

    /** The bulk operations as the load stage made them before: the EnrichedOrder itself as the document. */
    private static List<Object> operationsAsBefore(List<EnrichedOrderChange> batch) {
        List<Object> operations = new ArrayList<>();
        for (EnrichedOrderChange change : batch) {
            if (change instanceof EnrichedOrder order) {
                operations.add(new IndexOperation.Builder<EnrichedOrder>().id(order.id()).document(order)
                        .version(order.version()).versionType(VersionType.ExternalGte));
            } else {
                operations.add(new DeleteOperation.Builder().id(change.id()).version(change.version())
                        .versionType(VersionType.ExternalGte));
            }
        }
        return operations;
    }

    /** Answers a bulk as Elasticsearch does (an item per action, refused ids with a 400), anything else with {}. */
    private void answer(HttpExchange http) throws IOException {
        byte[] request = http.getRequestBody().readAllBytes();
        String answer = "{}";
        if (http.getRequestURI().getPath().endsWith("/_bulk")) {
            bulks.add(request);
            answer = bulkAnswer(request);
        }
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        http.getResponseHeaders().add("Content-Type", "application/json");
        http.getResponseHeaders().add("X-Elastic-Product", "Elasticsearch");
        http.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = http.getResponseBody()) {
            out.write(bytes);
        }
    }

    private String bulkAnswer(byte[] request) throws IOException {
        ObjectNode answer = Json.MAPPER.createObjectNode();
        ArrayNode items = Json.MAPPER.createArrayNode();
        boolean errors = false;
        List<byte[]> lines = lines(request);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode action = Json.MAPPER.readTree(lines.get(i));
            String type = action.fieldNames().next();
            String id = action.get(type).get("_id").asText();
            if (type.equals("index")) {
                i++; // its document
            }
            ObjectNode result = Json.MAPPER.createObjectNode().put("_index", "enriched_orders").put("_id", id);
            if (refused.contains(id)) {
                errors = true;
                result.put("status", 400).putObject("error").put("type", "document_parsing_exception")
                        .put("reason", "refused by the test");
            } else {
                result.put("status", type.equals("index") ? 201 : 200);
            }
            items.addObject().set(type, result);
        }
        answer.put("took", 1).put("errors", errors).set("items", items);
        return Json.write(answer);
    }

    /** The document lines of a bulk body, byte for byte as sent. */
    private static List<byte[]> documents(byte[] body) throws IOException {
        List<byte[]> documents = new ArrayList<>();
        List<byte[]> lines = lines(body);
        for (int i = 0; i < lines.size(); i++) {
            if (Json.MAPPER.readTree(lines.get(i)).has("index")) {
                documents.add(lines.get(++i));
            }
        }
        return documents;
    }

    /** The lines of an NDJSON body, split on its newline bytes. */
    private static List<byte[]> lines(byte[] body) {
        List<byte[]> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                if (i > start) {
                    lines.add(Arrays.copyOfRange(body, start, i));
                }
                start = i + 1;
            }
        }
        return lines;
    }

    private static String text(byte[] body) {
        return new String(body, StandardCharsets.UTF_8);
    }
}
