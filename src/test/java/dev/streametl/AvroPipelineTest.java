package dev.streametl;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.streametl.embedded.EmbeddedSchemaRegistry;
import dev.streametl.pipeline.Customer;
import dev.streametl.pipeline.EnrichedOrder;
import dev.streametl.pipeline.Json;
import io.apicurio.registry.serde.SerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.config.IdOption;
import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline with {@code etl.format=avro} on real PostgreSQL, Kafka, Elasticsearch and schema registry (Apicurio):
 * the orders reach Elasticsearch as in JSON; a plain Kafka consumer that decodes {@code enriched_orders} with the
 * schema the registry serves for each record's id gets exactly the SQL join; the registry lists the topics' subjects;
 * the product counts on {@code product_sales}, read the same way, are the SQL counts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AvroPipelineTest {

    private static final Path REGISTRY_HOME = Path.of(System.getProperty("etl.embedded.schema-registry-home",
            EmbeddedSchemaRegistry.DEFAULT_HOME.toString()));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tempDir;

    RealServices real;
    EmbeddedSchemaRegistry registry;

    @BeforeAll
    void startServicesAndPipeline() throws Exception {
        real = RealServices.start(tempDir);
        registry = EmbeddedSchemaRegistry.start(0, tempDir.resolve("schema-registry"), REGISTRY_HOME);
        real.startPipeline(Map.of("etl.format", "avro", "etl.schema-registry.url", registry.url(),
                "etl.enrich.customer-wait-ms", "1000")); // an order without its customer is soon unmatched
    }

    @AfterAll
    void stop() {
        if (real != null) {
            real.close(); // the pipeline first
        }
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void ordersReachElasticsearchAsInJson() throws Exception {
        real.sql(Files.readString(Path.of("sql/addnew_orders.sql")));
        Map<String, JsonNode> expected = real.sqlJoin();
        assertEquals(52, expected.size());
        RealServices.awaitSettled(expected, () -> real.documents("enriched_orders"), Duration.ofMinutes(2));
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void aPlainConsumerDecodesEnrichedOrdersWithTheRegistrysSchemaExactly() throws Exception {
        Map<String, JsonNode> expected = real.sqlJoin();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                .until(() -> latestOrders(), expected::equals);

        // one record's raw fields: the decimal exact, as PostgreSQL has it
        GenericRecord first = (GenericRecord) decode(valuesOf("enriched_orders").stream()
                .filter(r -> r.value() != null && "1".equals(decode(r.key()).toString())).findFirst().orElseThrow().value());
        assertEquals(expected.get("1").get("price").decimalValue(), decimal(first, "price"));
        assertEquals(expected.get("1").get("customer_name").asText(), first.get("customer_name").toString());
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void productSalesAreTheSqlCountsAndTheRegistryListsTheSubjects() throws Exception {
        Map<String, Long> expected = new TreeMap<>();
        real.sqlJoin().values().forEach(order -> expected.merge(order.get("product_code").asText(), 1L, Long::sum));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            Map<String, Long> counts = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> record : valuesOf("product_sales")) {
                GenericRecord sales = (GenericRecord) decode(record.value());
                counts.put(sales.get("product_code").toString(), (Long) sales.get("order_count"));
            }
            return counts;
        }, expected::equals);

        List<String> subjects = new ArrayList<>();
        JSON.readTree(get(registry.url() + "/subjects")).forEach(subject -> subjects.add(subject.asText()));
        assertTrue(subjects.containsAll(List.of("enriched_orders-key", "enriched_orders-value", "product_sales-key",
                "product_sales-value", "high_value_prospects-key", "high_value_prospects-value")), subjects.toString());
    }

    @Test
    @org.junit.jupiter.api.Order(4)
    void aRecordWhoseSchemaCannotBeReadIsADeadLetterWithItsOriginalBytes() throws Exception {
        byte[] json = "{\"order_id\":900}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] unknownSchema = {0, 0, 0x0F, 0x12, 0x06, (byte) 0xC8, (byte) 0xFF, 0x01}; // schema id 987654: not in the registry
        try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer = bytesProducer()) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("enriched_orders", 0, "k1".getBytes(), json)).get();
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("enriched_orders", 0, "k2".getBytes(), unknownSchema)).get();
        }

        // the prospects read the topic (product sales count the order changes): both records set aside, and it goes on
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            List<ConsumerRecord<byte[], byte[]>> deadLetters = valuesOf("etl.dlq");
            for (byte[] original : List.of(json, unknownSchema)) {
                List<ConsumerRecord<byte[], byte[]>> ofIt = deadLetters.stream()
                        .filter(r -> java.util.Arrays.equals(original, r.value())).toList();
                assertEquals(1, ofIt.size(), "dead letters of " + java.util.Arrays.toString(original));
                for (ConsumerRecord<byte[], byte[]> deadLetter : ofIt) {
                    String reason = new String(deadLetter.headers().lastHeader(dev.streametl.pipeline.DeadLetter.ERROR).value(),
                            java.nio.charset.StandardCharsets.UTF_8);
                    assertTrue(reason.contains(original == json ? "magic byte 123" : "no schema 987654"), reason);
                    assertEquals("enriched_orders", new String(deadLetter.headers()
                            .lastHeader(dev.streametl.pipeline.DeadLetter.SOURCE_TOPIC).value(), java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        });
    }

    @Test
    @org.junit.jupiter.api.Order(5)
    void theChangeTopicsAreDebeziumsAvroEnvelopes() throws Exception {
        for (String table : List.of("customers", "orders")) {
            String topic = "postgres.public." + table;
            ConsumerRecord<byte[], byte[]> record = valuesOf(topic).stream().filter(r -> r.value() != null).findFirst().orElseThrow();
            GenericRecord key = (GenericRecord) decode(record.key());
            assertEquals(topic + ".Key", key.getSchema().getFullName());
            assertEquals(List.of(table.equals("orders") ? "order_id" : "id"), fieldNames(key.getSchema()));

            GenericRecord envelope = (GenericRecord) decode(record.value());
            Schema schema = envelope.getSchema();
            assertEquals(topic + ".Envelope", schema.getFullName());
            assertEquals(List.of("before", "after", "source", "transaction", "op", "ts_ms"), fieldNames(schema));
            Schema after = schema.getField("after").schema();
            assertEquals(Schema.Type.NULL, after.getTypes().get(0).getType());
            assertEquals(topic + ".Value", after.getTypes().get(1).getFullName());
            assertEquals(table.equals("orders") ? List.of("order_id", "customer_id", "price", "product_code")
                    : List.of("id", "name", "age", "membership"), fieldNames(after.getTypes().get(1)));
            assertEquals("io.debezium.connector.postgresql.Source", schema.getField("source").schema().getFullName());
            assertEquals("r", envelope.get("op").toString()); // the snapshot's read of the row
            assertEquals(table, ((GenericRecord) envelope.get("source")).get("table").toString());
            GenericRecord row = (GenericRecord) envelope.get("after");
            if (table.equals("orders")) {
                JsonNode joined = real.sqlJoin().get(row.get("order_id").toString());
                assertEquals(joined.get("price").decimalValue(), decimal(row, "price"));
                assertEquals(joined.get("product_code").asText(), row.get("product_code").toString());
            }
        }
        List<String> subjects = new ArrayList<>();
        JSON.readTree(get(registry.url() + "/subjects")).forEach(subject -> subjects.add(subject.asText()));
        assertTrue(subjects.containsAll(List.of("postgres.public.customers-key", "postgres.public.customers-value",
                "postgres.public.orders-key", "postgres.public.orders-value")), subjects.toString());
    }

    @Test
    @org.junit.jupiter.api.Order(6)
    void anOrderWithoutItsCustomerIsAnAvroOrderOnTheUnmatchedTopicAndJoinedOnceItComes() throws Exception {
        real.sql("INSERT INTO orders VALUES (901, 901, 12.34, 'UNM-01')");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> valuesOf("enriched_orders.unmatched")
                .stream().anyMatch(r -> "901".equals(decode(r.key()).toString())));
        GenericRecord order = (GenericRecord) decode(valuesOf("enriched_orders.unmatched").stream()
                .filter(r -> "901".equals(decode(r.key()).toString())).findFirst().orElseThrow().value());
        assertEquals("dev.streametl.Order", order.getSchema().getFullName());
        assertEquals(901, order.get("customer_id"));
        assertEquals(new BigDecimal("12.34"), decimal(order, "price"));
        assertEquals("UNM-01", order.get("product_code").toString());

        real.sql("INSERT INTO customers VALUES (901, 'Una Matched', 40, 'gold')");
        RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(2));
    }

    @Test
    @org.junit.jupiter.api.Order(7)
    void aColumnAddedIsASecondSchemaVersionAndThePipelineGoesOn() throws Exception {
        String subject = "postgres.public.customers-value";
        assertEquals(1, versions(subject).size());
        real.sql("ALTER TABLE customers ADD COLUMN email text",
                "INSERT INTO customers (id, name, age, membership, email) VALUES (902, 'Eve Olution', 33, 'standard', 'eve@example.com')",
                "UPDATE customers SET email = 'ada@example.com' WHERE id = 1",
                "INSERT INTO orders VALUES (902, 902, 77.70, 'EVO-01')");

        RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(2));
        assertEquals(2, versions(subject).size());
        Schema latest = new Schema.Parser().parse(JSON.readTree(get(registry.url() + "/subjects/" + subject
                + "/versions/latest")).get("schema").asText());
        assertEquals(List.of("id", "name", "age", "membership", "email"),
                fieldNames(latest.getField("after").schema().getTypes().get(1)));
        GenericRecord eve = (GenericRecord) valuesOf("postgres.public.customers").stream()
                .filter(r -> r.value() != null).map(r -> (GenericRecord) decode(r.value()))
                .filter(change -> change.get("after") != null && Integer.valueOf(902).equals(((GenericRecord) change.get("after")).get("id")))
                .findFirst().orElseThrow().get("after");
        assertEquals("eve@example.com", eve.get("email").toString());
    }

    @Test
    @org.junit.jupiter.api.Order(8)
    void poisonedChangeRecordsAreDeadLettersWithTheirReasonAndLaterChangesFlow() throws Exception {
        byte[] notAvro = "{\"id\":903}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] unknownSchema = {0, 0, 0x0F, 0x12, 0x05, (byte) 0xC8, (byte) 0xFF, 0x01}; // schema id 987653: not in the registry
        List<String> topics = List.of("postgres.public.customers", "postgres.public.orders");
        try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer = bytesProducer()) {
            for (String topic : topics) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "poison-1".getBytes(), notAvro)).get();
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "poison-2".getBytes(), unknownSchema)).get();
            }
        }

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            List<ConsumerRecord<byte[], byte[]>> deadLetters = valuesOf("etl.dlq");
            for (String topic : topics) {
                for (byte[] original : List.of(notAvro, unknownSchema)) {
                    List<ConsumerRecord<byte[], byte[]>> ofIt = deadLetters.stream()
                            .filter(r -> java.util.Arrays.equals(original, r.value()) && topic.equals(header(r, dev.streametl.pipeline.DeadLetter.SOURCE_TOPIC)))
                            .toList();
                    assertEquals(1, ofIt.size(), "dead letters of " + topic + " " + java.util.Arrays.toString(original));
                    String reason = header(ofIt.get(0), dev.streametl.pipeline.DeadLetter.ERROR);
                    assertTrue(reason.contains(original == notAvro ? "magic byte 123" : "no schema 987653"), reason);
                    assertTrue(header(ofIt.get(0), dev.streametl.pipeline.DeadLetter.SOURCE_OFFSET).matches("\\d+"));
                    assertTrue(!header(ofIt.get(0), dev.streametl.pipeline.DeadLetter.ROUTE).isBlank());
                }
            }
        });

        real.sql("INSERT INTO customers (id, name, age, membership, email) VALUES (904, 'Later Lee', 51, 'premium', null)",
                "INSERT INTO orders VALUES (904, 904, 404.00, 'LAT-01')");
        RealServices.awaitSettled(real.sqlJoin(), () -> real.documents("enriched_orders"), Duration.ofMinutes(2));
        assertEquals("Later Lee", real.documents("enriched_orders").get("904").get("customer_name").asText());
    }

    @Test
    @org.junit.jupiter.api.Order(20)
    void aTruncateDeletesEveryOrderAsAvroDeletes() throws Exception {
        int orders = real.sqlJoin().size();
        real.sql("TRUNCATE orders");
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
                .until(() -> real.documents("enriched_orders").isEmpty());
        // the latest change of every order on the topic is its delete, in the topic's Avro envelope, the row before it
        Map<String, GenericRecord> latest = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> record : valuesOf("postgres.public.orders")) {
            if (record.value() != null && record.key()[0] == 0) { // not the poisoned records of the test before
                latest.put(decode(record.key()).toString(), (GenericRecord) decode(record.value()));
            }
        }
        assertTrue(latest.size() >= orders, latest.size() + " orders on the topic, " + orders + " in the join");
        for (GenericRecord delete : latest.values()) {
            assertEquals("d", delete.get("op").toString(), delete.toString());
            assertEquals(null, delete.get("after"));
            assertEquals("postgres.public.orders.Value", ((GenericRecord) delete.get("before")).getSchema().getFullName());
        }
    }

    @Test
    @org.junit.jupiter.api.Order(9)
    void apicuriosOwnAvroDeserializerReadsEnrichedOrdersAsTheSqlJoin() throws Exception {
        // Apicurio's serde in Confluent's mode: 4-byte ids, which are the registry's content ids
        Map<String, Object> config = Map.of(
                SerdeConfig.REGISTRY_URL, registry.url().replace("/apis/ccompat/v7", "/apis/registry/v2"),
                SerdeConfig.ENABLE_CONFLUENT_ID_HANDLER, "true",
                SerdeConfig.USE_ID, IdOption.contentId.name());
        try (AvroKafkaDeserializer<Object> keys = new AvroKafkaDeserializer<>();
             AvroKafkaDeserializer<Object> values = new AvroKafkaDeserializer<>()) {
            keys.configure(config, true);
            values.configure(config, false);
            Map<String, JsonNode> expected = real.sqlJoin();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> latestOrders(
                    bytes -> keys.deserialize("enriched_orders", bytes),
                    bytes -> values.deserialize("enriched_orders", bytes)), expected::equals);
        }
    }

    private List<Integer> versions(String subject) throws Exception {
        List<Integer> versions = new ArrayList<>();
        JSON.readTree(get(registry.url() + "/subjects/" + subject + "/versions")).forEach(v -> versions.add(v.asInt()));
        return versions;
    }

    private static List<String> fieldNames(Schema record) {
        return record.getFields().stream().map(Schema.Field::name).toList();
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        org.apache.kafka.common.header.Header header = record.headers().lastHeader(name);
        return header == null ? "" : new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The latest enriched order of each key, decoded without the pipeline's code, as the SQL join's JSON. */
    private Map<String, JsonNode> latestOrders() throws Exception {
        return latestOrders(this::decode, this::decode);
    }

    /** The same, keys and values decoded by the given functions; records that are not Confluent Avro left out. */
    private Map<String, JsonNode> latestOrders(java.util.function.Function<byte[], Object> keys,
                                               java.util.function.Function<byte[], Object> values) throws Exception {
        Map<String, JsonNode> latest = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> record : valuesOf("enriched_orders")) {
            if (record.key()[0] != 0) {
                continue; // the records of aRecordWhoseSchemaCannotBeReadIsADeadLetterWithItsOriginalBytes
            }
            String key = keys.apply(record.key()).toString();
            if (record.value() == null) {
                latest.remove(key);
                continue;
            }
            GenericRecord order = (GenericRecord) values.apply(record.value());
            latest.put(key, RealServices.tree(Json.write(new EnrichedOrder((Integer) order.get("order_id"), decimal(order, "price"),
                    order.get("product_code").toString(), new Customer((Integer) order.get("customer_id"),
                    text(order.get("customer_name")), (Integer) order.get("customer_age"),
                    text(order.get("customer_membership"))), 0))));
        }
        return latest;
    }

    /** What any Confluent-compatible consumer does: magic byte 0, the id, the schema of that id from the registry. */
    private Object decode(byte[] bytes) {
        try {
            assertEquals(0, bytes[0], "magic byte");
            int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
            Schema schema = new Schema.Parser().parse(JSON.readTree(get(registry.url() + "/schemas/ids/" + id)).get("schema").asText());
            return new GenericDatumReader<>(schema).read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));
        } catch (Exception e) {
            throw new AssertionError("not readable as Confluent Avro: " + e, e);
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> valuesOf(String topic) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, real.kafka);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }

    private static BigDecimal decimal(GenericRecord record, String field) {
        Schema schema = record.getSchema().getField(field).schema();
        return new Conversions.DecimalConversion().fromBytes((ByteBuffer) record.get(field), schema, schema.getLogicalType());
    }

    private static String text(Object value) {
        return value == null ? null : value.toString();
    }

    private static String get(String url) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), url + ": " + response.body());
        return response.body();
    }

    /** A plain producer of raw bytes on the test's Kafka: records the pipeline did not write (poison, foreign ones). */
    private org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> bytesProducer() {
        Properties config = new Properties();
        config.put(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, real.kafka);
        return new org.apache.kafka.clients.producer.KafkaProducer<>(config,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer());
    }
}
