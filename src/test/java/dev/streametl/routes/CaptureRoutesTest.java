package dev.streametl.routes;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import java.time.Duration;

import dev.streametl.App;
import dev.streametl.pipeline.CapturePublications;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.KafkaRefusal;
import org.apache.camel.Message;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.camel.EndpointInject;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.debezium.DebeziumConstants;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.test.main.junit5.CamelMainTest;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@CamelMainTest(mainClass = App.class,
               propertyPlaceholderLocations = { "classpath:unit-test.properties", "classpath:application.properties" })
class CaptureRoutesTest {

    private static final Schema ORDER = SchemaBuilder.struct()
            .field("order_id", Schema.INT32_SCHEMA)
            .field("customer_id", Schema.INT32_SCHEMA)
            .field("price", Decimal.schema(2))
            .field("product_code", Schema.STRING_SCHEMA)
            .build();
    private static final Schema ORDER_KEY = SchemaBuilder.struct().field("order_id", Schema.INT32_SCHEMA).build();

    @EndpointInject("mock:postgres.public.orders")
    MockEndpoint ordersTopic;

    @EndpointInject("direct:capture")
    ProducerTemplate capture;

    @EndpointInject("mock:dead-letters")
    MockEndpoint deadLetters;

    @Test
    void aChangeItCannotMapIsDeadLetteredAndCaptureGoesOn() throws Exception {
        deadLetters.expectedMessageCount(1);
        ordersTopic.expectedMessageCount(1);

        capture.sendBodyAndHeaders(42, headers("c", null, 8)); // a row that is not a row
        capture.sendBodyAndHeaders(order(7, 3, "412.50", "MUG-02"), headers("c", null, 7));

        MockEndpoint.assertIsSatisfied(deadLetters, ordersTopic);
        Message deadLetter = deadLetters.getExchanges().get(0).getMessage();
        assertEquals("InvalidRecordException: cannot read a row from java.lang.Integer", deadLetter.getHeader(DeadLetter.ERROR));
        assertEquals("postgres.public.orders", deadLetter.getHeader(DeadLetter.SOURCE_TOPIC));
        assertEquals("capture-changes", deadLetter.getHeader(DeadLetter.ROUTE));
        assertEquals("{\"order_id\":7}", ordersTopic.getExchanges().get(0).getMessage().getHeader(KafkaConstants.KEY));
    }

    @Test
    void aChangeKafkaRefusesForGoodIsDeadLetteredAndCountsAsDelivered() throws Exception {
        String huge = "X".repeat(200_000);
        ordersTopic.whenExchangeReceived(1, e -> {
            throw new RecordTooLargeException("The message is 200300 bytes when serialized which is larger than 100000");
        });
        ordersTopic.expectedMessageCount(2); // the refused one (tried once), then the next change
        deadLetters.expectedMessageCount(1);
        CapturePublications publications = CapturePublications.of(capture.getCamelContext()
                .resolvePropertyPlaceholders("{{camel.component.debezium-postgres.offset-storage-file-name}}"));

        capture.sendBodyAndHeaders(order(8, 3, "1.00", huge), headers("c", null, 8));
        capture.sendBodyAndHeaders(order(7, 3, "412.50", "MUG-02"), headers("c", null, 7));

        MockEndpoint.assertIsSatisfied(deadLetters, ordersTopic);
        Message deadLetter = deadLetters.getExchanges().get(0).getMessage();
        assertEquals("RecordTooLargeException: The message is 200300 bytes when serialized which is larger than 100000",
                deadLetter.getHeader(DeadLetter.ERROR));
        assertEquals("{\"order_id\":8}", deadLetter.getHeader(KafkaConstants.KEY));
        assertEquals("postgres.public.orders", deadLetter.getHeader(DeadLetter.SOURCE_TOPIC));
        assertEquals("publish-changes", deadLetter.getHeader(DeadLetter.ROUTE));
        assertEquals(KafkaRefusal.KEPT_CHARS, deadLetter.getBody(String.class).length());
        assertTrue(deadLetter.getBody(String.class).startsWith("{\"before\":null,\"after\":{\"order_id\":8,"));
        assertTrue(Integer.parseInt(deadLetter.getHeader(KafkaRefusal.ORIGINAL_SIZE, String.class)) > 200_000);
        await().atMost(Duration.ofSeconds(5)).until(() -> publications.inFlight() == 0); // nothing holds the offsets back
    }

    @Test
    void writesTheChangeEnvelopeKeyedByPrimaryKey() throws Exception {
        ordersTopic.expectedMessageCount(1);

        capture.sendBodyAndHeaders(order(7, 3, "412.50", "MUG-02"), headers("c", null, 7));

        ordersTopic.assertIsSatisfied();
        assertEquals("{\"order_id\":7}", ordersTopic.getExchanges().get(0).getMessage().getHeader(KafkaConstants.KEY));
        assertEquals("{\"before\":null,"
                     + "\"after\":{\"order_id\":7,\"customer_id\":3,\"price\":412.50,\"product_code\":\"MUG-02\"},"
                     + "\"source\":{\"lsn\":123456,\"txId\":789,\"ts_ms\":1700000000000,\"table\":\"orders\"},"
                     + "\"op\":\"c\",\"ts_ms\":1700000000100}",
                ordersTopic.getExchanges().get(0).getMessage().getBody(String.class));
    }

    @Test
    void followsADeleteWithATombstone() throws Exception {
        ordersTopic.expectedMessageCount(2);

        capture.sendBodyAndHeaders(null, headers("d", order(7, 3, "412.50", "MUG-02"), 7));

        ordersTopic.assertIsSatisfied();
        String delete = ordersTopic.getExchanges().get(0).getMessage().getBody(String.class);
        assertEquals("{\"before\":{\"order_id\":7,\"customer_id\":3,\"price\":412.50,\"product_code\":\"MUG-02\"},"
                     + "\"after\":null,"
                     + "\"source\":{\"lsn\":123456,\"txId\":789,\"ts_ms\":1700000000000,\"table\":\"orders\"},"
                     + "\"op\":\"d\",\"ts_ms\":1700000000100}", delete);
        assertNull(ordersTopic.getExchanges().get(1).getMessage().getBody());
        assertEquals("{\"order_id\":7}", ordersTopic.getExchanges().get(1).getMessage().getHeader(KafkaConstants.KEY));
    }

    @Test
    void skipsDebeziumsHeartbeats() throws Exception {
        ordersTopic.expectedMessageCount(1);
        deadLetters.expectedMessageCount(0);
        CapturePublications publications = CapturePublications.of(capture.getCamelContext()
                .resolvePropertyPlaceholders("{{camel.component.debezium-postgres.offset-storage-file-name}}"));

        // what camel-debezium hands over for a heartbeat: its topic as identifier, a server-name key, no row, no operation
        Schema heartbeatKey = SchemaBuilder.struct().name("io.debezium.connector.common.ServerNameKey")
                .field("serverName", Schema.STRING_SCHEMA).build();
        Map<String, Object> heartbeat = new HashMap<>();
        heartbeat.put(DebeziumConstants.HEADER_IDENTIFIER, "__debezium-heartbeat.postgres");
        heartbeat.put(DebeziumConstants.HEADER_KEY, new Struct(heartbeatKey).put("serverName", "postgres"));
        heartbeat.put(DebeziumConstants.HEADER_TIMESTAMP, 1700000000200L);
        capture.sendBodyAndHeaders(null, heartbeat);
        capture.sendBodyAndHeaders(order(7, 3, "412.50", "MUG-02"), headers("c", null, 7));

        MockEndpoint.assertIsSatisfied(ordersTopic, deadLetters);
        assertNull(capture.getCamelContext().hasEndpoint("mock:__debezium-heartbeat.postgres"), "nothing sent for it");
        await().atMost(Duration.ofSeconds(5)).until(() -> publications.inFlight() == 0); // it holds no offset back
    }

    private static Struct order(int id, int customerId, String price, String productCode) {
        return new Struct(ORDER).put("order_id", id).put("customer_id", customerId)
                .put("price", new BigDecimal(price)).put("product_code", productCode);
    }

    private static Map<String, Object> headers(String op, Struct before, int key) {
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("lsn", 123456L);
        source.put("txId", 789L);
        source.put("ts_ms", 1700000000000L);
        source.put("table", "orders");
        Map<String, Object> headers = new HashMap<>();
        headers.put(DebeziumConstants.HEADER_IDENTIFIER, "postgres.public.orders");
        headers.put(DebeziumConstants.HEADER_OPERATION, op);
        headers.put(DebeziumConstants.HEADER_BEFORE, before);
        headers.put(DebeziumConstants.HEADER_KEY, new Struct(ORDER_KEY).put("order_id", key));
        headers.put(DebeziumConstants.HEADER_SOURCE_METADATA, source);
        headers.put(DebeziumConstants.HEADER_TIMESTAMP, 1700000000100L);
        return headers;
    }
}
