package dev.streametl.pipeline;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import co.elastic.clients.json.JsonpMapper;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.util.BinaryData;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each order's JSON, made once for both sinks, is byte for byte what each sink got when each serialized the order
 * itself: Elasticsearch (the elasticsearch component's mapper, through the client's own document path) and Kafka
 * ({@link Json#write}, then the endpoint's string serializer).
 */
class OrderWriteTest {

    private static final Logger LOG = LoggerFactory.getLogger(OrderWriteTest.class);
    private static final String TOPIC = "enriched_orders";

    /** Orders whose JSON could come out differently: nulls, number forms, text that needs escapes or several bytes. */
    static final List<EnrichedOrder> ORDERS = List.of(
            order(7, "412.50", "MUG-02", new Customer(3, "Anna Berg", 41, "standard")),
            order(8, "10.00", "PEN-05", new Customer(4, null, null, null)), // a customer with nulls
            order(9, "1.00", "CAP-03", null), // no customer at all
            order(10, "0.00", "HAT-06", new Customer(5, "Zoë Ångström", 0, "premium")),
            order(11, "1E+3", "TEE-01", new Customer(6, "李小龙", 99, "standard")),
            order(12, "12345678901234567890.123456789", "BAG-04", new Customer(7, "Ærøskøbing ñ €", 30, "premium")),
            order(13, "-5.5", "MUG-02", new Customer(8, "quote \" backslash \\ slash / tab \t newline \n \u0001", 1, "x")),
            order(14, "0.0000001", "PEN-05", new Customer(9, "</script> \u2028 \u00ff \uffff", -1, "")),
            order(Integer.MAX_VALUE, new BigDecimal(0.1).toString(), "CAP-03", new Customer(Integer.MIN_VALUE, "", null, "premium")));

    /** A name with a character beyond the BMP (an emoji): the two sinks did not get the same bytes before. */
    static final EnrichedOrder EMOJI = order(15, "3.00", "HAT-06", new Customer(10, "party \uD83C\uDF89 time", 30, "premium"));

    static EnrichedOrder order(int id, String price, String productCode, Customer customer) {
        return new EnrichedOrder(id, new BigDecimal(price), productCode, customer, 1000 + id);
    }

    /** The mapper the elasticsearch component (4.17) makes for each request: a plain ObjectMapper, in the client's mapper. */
    static JsonpMapper componentMapper() {
        return new JacksonJsonpMapper(new ObjectMapper().configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false));
    }

    /** A document as the client puts it in a bulk request body (ElasticsearchTransportBase: BinaryData.of(document, mapper)). */
    static byte[] bulkLine(Object document, JsonpMapper mapper) throws Exception {
        ByteBuffer buffer = BinaryData.of(document, mapper).asByteBuffer();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** A record value as the kafka endpoint sends it (value serializer: Kafka's StringSerializer, the default). */
    static byte[] kafkaValue(Object value) {
        try (StringSerializer serializer = new StringSerializer()) {
            return serializer.serialize(TOPIC, (String) value);
        }
    }

    @Test
    void theOneJsonIsByteForByteWhatEachSinkGotBefore() throws Exception {
        JsonpMapper mapper = componentMapper();
        for (EnrichedOrder order : ORDERS) {
            byte[] elasticsearchBefore = bulkLine(order, mapper);
            byte[] kafkaBefore = kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, order));

            OrderWrite write = OrderWrite.of(order);
            byte[] elasticsearchNow = bulkLine(new JsonDocument(write.json()), mapper);
            byte[] kafkaNow = kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, write));

            String what = "order " + order.orderId() + ": " + new String(kafkaBefore, StandardCharsets.UTF_8);
            assertArrayEquals(elasticsearchBefore, kafkaBefore, "the two sinks got the same JSON before, " + what);
            assertArrayEquals(elasticsearchBefore, elasticsearchNow, "Elasticsearch, " + what);
            assertArrayEquals(kafkaBefore, kafkaNow, "Kafka, " + what);
            assertArrayEquals(write.json(), elasticsearchNow, "the document is the write's JSON, as it is: " + what);
        }
    }

    /**
     * Beyond the BMP the two sinks got different bytes before (Elasticsearch's client writes straight to bytes, which
     * escapes the two surrogates; Kafka's text is encoded as UTF-8): one JSON cannot be both. It is Kafka's, the
     * topic's bytes unchanged; Elasticsearch gets the same JSON value, the character as its UTF-8 bytes.
     */
    @Test
    void beyondTheBmpTheTopicKeepsItsBytesAndTheDocumentTheSameJsonValue() throws Exception {
        byte[] elasticsearchBefore = bulkLine(EMOJI, componentMapper());
        byte[] kafkaBefore = kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, EMOJI));
        OrderWrite write = OrderWrite.of(EMOJI);

        assertArrayEquals(kafkaBefore, kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, write)));
        assertArrayEquals(kafkaBefore, bulkLine(new JsonDocument(write.json()), componentMapper()));
        assertTrue(new String(elasticsearchBefore, StandardCharsets.UTF_8).contains("party \\uD83C\\uDF89 time"));
        assertTrue(write.jsonText().contains("party \uD83C\uDF89 time"));
        assertEquals(Json.MAPPER.readTree(elasticsearchBefore), Json.MAPPER.readTree(write.json()));
    }

    /**
     * A lone surrogate (no text: PostgreSQL cannot store one, a hand-made JSON record can carry one) was a '?' on the
     * topic and an escape in the document; it is the escape in both now, the document unchanged.
     */
    @Test
    void aLoneSurrogateIsEscapedAsTheDocumentHadIt() throws Exception {
        EnrichedOrder lone = order(16, "1.00", "PEN-05", new Customer(11, "a\uD800b", 1, "standard"));
        byte[] elasticsearchBefore = bulkLine(lone, componentMapper());
        OrderWrite write = OrderWrite.of(lone);

        assertTrue(new String(kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, lone)), StandardCharsets.UTF_8)
                .contains("\"customer_name\":\"a?b\""));
        assertArrayEquals(elasticsearchBefore, write.json());
        assertArrayEquals(elasticsearchBefore, kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, write)));
    }

    @Test
    void theJsonKeepsFieldOrderNullsAndPriceAsWritten() {
        assertEquals("{\"order_id\":8,\"price\":10.00,\"product_code\":\"PEN-05\",\"customer_id\":4,\"customer_name\":null,"
                     + "\"customer_age\":null,\"customer_membership\":null}", OrderWrite.of(ORDERS.get(1)).jsonText());
        assertEquals("{\"order_id\":11,\"price\":1E+3,\"product_code\":\"TEE-01\",\"customer_id\":6,\"customer_name\":"
                     + "\"李小龙\",\"customer_age\":99,\"customer_membership\":\"standard\"}", OrderWrite.of(ORDERS.get(4)).jsonText());
    }

    @Test
    void aDeletionHasNoJsonAndATombstoneValue() {
        OrderWrite deletion = OrderWrite.of(new OrderDeletion(8, 1001));
        assertNull(deletion.json());
        assertNull(RecordFormat.json().enrichedOrder(TOPIC, deletion));
    }

    @Test
    void aBatchOfWritesIsTakenAsItIsAndChangesGetTheirJsonOnce() {
        List<OrderWrite> writes = OrderWrite.ofBatch(List.of(ORDERS.get(0), new OrderDeletion(8, 1001)));
        List<OrderWrite> again = OrderWrite.ofBatch(writes);
        assertSame(writes.get(0), again.get(0));
        assertSame(writes.get(0).json(), again.get(0).json(), "not written again");
        assertEquals(new OrderDeletion(8, 1001), again.get(1).change());
    }

    /**
     * Not a benchmark (nothing asserted, the machine is shared): the JSON work of a batch for both sinks, before (each
     * sink serializes each order, the elasticsearch component with a mapper made per request) and now (once), logged.
     */
    @Test
    void logsWhatSerializingOnceSaves() throws Exception {
        List<EnrichedOrder> batch = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            batch.add(ORDERS.get(i % ORDERS.size()));
        }
        long before = 0;
        long now = 0;
        long sink = 0;
        for (int round = 0; round < 60; round++) {
            boolean measured = round >= 20; // the first rounds warm up
            long start = System.nanoTime();
            JsonpMapper mapper = componentMapper(); // one per bulk request, as the component does
            for (EnrichedOrder order : batch) {
                sink += bulkLine(order, mapper).length;
                sink += kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, order)).length;
            }
            long middle = System.nanoTime();
            JsonpMapper mapperNow = componentMapper();
            for (OrderWrite write : OrderWrite.ofBatch(batch)) {
                sink += bulkLine(new JsonDocument(write.json()), mapperNow).length;
                sink += kafkaValue(RecordFormat.json().enrichedOrder(TOPIC, write)).length;
            }
            long end = System.nanoTime();
            if (measured) {
                before += middle - start;
                now += end - middle;
            }
        }
        int orders = 40 * batch.size();
        LOG.info("JSON for both sinks, {} orders in batches of {}: before {} µs per order (each sink serializes), now {} µs"
                 + " per order (once); {} bytes written", orders, batch.size(), String.format("%.2f", before / 1000.0 / orders),
                String.format("%.2f", now / 1000.0 / orders), sink);
    }
}
