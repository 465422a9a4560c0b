package dev.streametl.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streametl.embedded.EmbeddedElasticsearch;
import dev.streametl.embedded.EmbeddedServices;
import dev.streametl.embedded.EmbeddedSettings;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confluent's Avro wire format on a real Kafka broker and a real schema registry (the embedded Apicurio Registry): a
 * plain Kafka consumer that knows nothing of the pipeline decodes the records with the schema it fetches from the
 * registry by id, and gets the exact values; subjects follow the topic; a backward-compatible new version (a column
 * added) is registered, an incompatible one refused; bytes that cannot be read say why.
 */
@Timeout(400)
class ConfluentAvroTest {

    private static final String TOPIC = "enriched_orders";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dataDir;

    private static EmbeddedServices services;
    private static SchemaRegistry registry;
    private static String registryUrl;

    @BeforeAll
    static void start() {
        services = EmbeddedServices.start(new EmbeddedSettings(dataDir, 0, 0, 0, EmbeddedElasticsearch.DEFAULT_HOME, List.of(),
                false, true, false).withSchemaRegistry(0));
        registryUrl = services.schemaRegistry().orElseThrow().url();
        registry = new SchemaRegistry(registryUrl, null, null, null);
    }

    @AfterAll
    static void stop() {
        if (services != null) {
            services.close();
        }
    }

    @Test
    void aPlainConsumerReadsTheExactValuesWithTheRegistrysSchema() throws Exception {
        ConfluentAvro avro = new ConfluentAvro(registry);
        List<EnrichedOrder> orders = List.of(
                new EnrichedOrder(1, new BigDecimal("212.00"), "BAG-01", new Customer(7, "Ada Quinn", 37, "premium"), 100),
                new EnrichedOrder(2, new BigDecimal("0.99"), "PEN-02", new Customer(8, null, null, null), 101));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
            for (EnrichedOrder order : orders) {
                producer.send(new ProducerRecord<>(TOPIC,
                        avro.write(ConfluentAvro.keySubject(TOPIC), ConfluentAvro.STRING_KEY, order.id()),
                        avro.write(ConfluentAvro.valueSubject(TOPIC), ConfluentAvro.ENRICHED_ORDER, ConfluentAvro.enrichedOrder(order)))).get();
            }
        }

        List<ConsumerRecord<byte[], byte[]>> records = consumeAll(TOPIC, orders.size());
        List<String> keys = new ArrayList<>();
        List<GenericRecord> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            keys.add(decodeWithoutThePipeline(record.key()).toString());
            values.add((GenericRecord) decodeWithoutThePipeline(record.value()));
        }
        assertEquals(List.of("1", "2"), keys);
        GenericRecord first = values.get(0);
        assertEquals(1, first.get("order_id"));
        assertEquals(new BigDecimal("212.00"), decimal(first, "price"));
        assertEquals("BAG-01", first.get("product_code").toString());
        assertEquals(7, first.get("customer_id"));
        assertEquals("Ada Quinn", first.get("customer_name").toString());
        assertEquals(37, first.get("customer_age"));
        assertEquals("premium", first.get("customer_membership").toString());
        GenericRecord second = values.get(1);
        assertEquals(new BigDecimal("0.99"), decimal(second, "price"));
        assertEquals(null, second.get("customer_name"));
        assertEquals(null, second.get("customer_age"));

        // and the pipeline's own reader gives the orders back (their version travels in a header, not in the record)
        assertEquals(EnrichedOrder.read(1, new BigDecimal("212.00"), "BAG-01", new Customer(7, "Ada Quinn", 37, "premium")),
                ConfluentAvro.enrichedOrder((GenericRecord) avro.read(records.get(0).value())));

        assertTrue(registry.subjects().containsAll(List.of("enriched_orders-key", "enriched_orders-value")), registry.subjects().toString());
    }

    @Test
    void aColumnAddedRegistersABackwardCompatibleVersionAndAnIncompatibleOneIsRefused() {
        String subject = "postgres.public.customers-value";
        Schema v1 = SchemaBuilder.record("Value").namespace("postgres.public.customers").fields()
                .requiredInt("id").requiredString("name").optionalInt("age").optionalString("membership").endRecord();
        Schema v2 = SchemaBuilder.record("Value").namespace("postgres.public.customers").fields()
                .requiredInt("id").requiredString("name").optionalInt("age").optionalString("membership")
                .optionalString("email").endRecord(); // ALTER TABLE customers ADD COLUMN email text
        Schema incompatible = SchemaBuilder.record("Value").namespace("postgres.public.customers").fields()
                .requiredInt("id").requiredString("name").requiredString("email").endRecord(); // no default: old records unreadable

        ConfluentAvro avro = new ConfluentAvro(registry);
        GenericRecord before = new GenericData.Record(v1);
        before.put("id", 1);
        before.put("name", "Ada");
        byte[] old = avro.write(subject, v1, before);
        GenericRecord after = new GenericData.Record(v2);
        after.put("id", 1);
        after.put("name", "Ada");
        after.put("email", "ada@example.com");
        byte[] newer = avro.write(subject, v2, after);

        assertEquals(List.of(1, 2), registry.versions(subject));
        assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(old, 0, 5), java.util.Arrays.copyOfRange(newer, 0, 5)),
                "each version has its own schema id");
        // both stay readable, each with the schema it was written with
        assertEquals("Ada", ((GenericRecord) avro.read(old)).get("name").toString());
        assertEquals("ada@example.com", ((GenericRecord) avro.read(newer)).get("email").toString());

        GenericRecord refused = new GenericData.Record(incompatible);
        refused.put("id", 2);
        refused.put("name", "Linus");
        refused.put("email", "linus@example.com");
        InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> avro.write(subject, incompatible, refused));
        assertTrue(e.getMessage().contains("incompatible"), e.getMessage());
        assertEquals(List.of(1, 2), registry.versions(subject));
    }

    @Test
    void bytesThatCannotBeReadSayWhy() {
        ConfluentAvro avro = new ConfluentAvro(registry);
        assertReason("magic byte 123", () -> avro.read("{\"order_id\":1}".getBytes()));
        assertReason("3 bytes", () -> avro.read(new byte[] {0, 0, 0}));
        assertReason("no schema 987654", () -> avro.read(new byte[] {0, 0, 0x0F, 0x12, 0x06, 2}));
        byte[] truncated = avro.write("truncated-value", ConfluentAvro.ENRICHED_ORDER,
                ConfluentAvro.enrichedOrder(new EnrichedOrder(3, BigDecimal.TEN, "X", new Customer(1, "A", 1, "m"), 1)));
        assertReason("cannot be read with its schema", () -> avro.read(java.util.Arrays.copyOf(truncated, 8)));
        assertArrayEquals(new byte[] {0}, java.util.Arrays.copyOf(truncated, 1));
    }

    private static void assertReason(String reason, org.junit.jupiter.api.function.Executable read) {
        InvalidRecordException e = assertThrows(InvalidRecordException.class, read);
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    /** What any Confluent-compatible consumer does: magic byte, id, the schema of that id from the registry's REST API. */
    private static Object decodeWithoutThePipeline(byte[] bytes) throws Exception {
        assertEquals(0, bytes[0], "magic byte");
        int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(registryUrl + "/schemas/ids/" + id)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        Schema schema = new Schema.Parser().parse(JSON.readTree(response.body()).get("schema").asText());
        return new GenericDatumReader<>(schema).read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));
    }

    private static BigDecimal decimal(GenericRecord record, String field) {
        Schema schema = record.getSchema().getField(field).schema();
        assertEquals(LogicalTypes.decimal(10, 2), schema.getLogicalType());
        return new Conversions.DecimalConversion().fromBytes((ByteBuffer) record.get(field), schema, schema.getLogicalType());
    }

    private static List<ConsumerRecord<byte[], byte[]>> consumeAll(String topic, int count) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka(),
                ConsumerConfig.GROUP_ID_CONFIG, "confluent-avro-test",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        assertEquals(count, records.size(), "records on " + topic);
        return records;
    }

    private static String kafka() {
        return services.kafka().orElseThrow().bootstrapServers();
    }
}
