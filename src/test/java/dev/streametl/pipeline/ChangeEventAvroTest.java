package dev.streametl.pipeline;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A change in Debezium's Avro envelope, made from the row's Kafka Connect schema as Debezium captures it, comes back as
 * the same {@link ChangeEvent} a JSON change gives, with the same checks.
 */
class ChangeEventAvroTest {

    static final String TOPIC = "postgres.public.orders";
    static final org.apache.kafka.connect.data.Schema KEY = SchemaBuilder.struct().name(TOPIC + ".Key")
            .field("order_id", org.apache.kafka.connect.data.Schema.INT32_SCHEMA).build();
    static final org.apache.kafka.connect.data.Schema ROW = SchemaBuilder.struct().name(TOPIC + ".Value")
            .field("order_id", org.apache.kafka.connect.data.Schema.INT32_SCHEMA)
            .field("customer_id", org.apache.kafka.connect.data.Schema.INT32_SCHEMA)
            .field("price", Decimal.builder(2).parameter("connect.decimal.precision", "10").build())
            .field("product_code", org.apache.kafka.connect.data.Schema.STRING_SCHEMA)
            .field("note", org.apache.kafka.connect.data.Schema.OPTIONAL_STRING_SCHEMA)
            .build();

    @Test
    void theSchemasAreDebeziumsEnvelopeAndKey() {
        Schema envelope = ChangeEventAvro.envelopeSchema(TOPIC, ROW);
        Schema key = ChangeEventAvro.keySchema(TOPIC, KEY);

        assertEquals(TOPIC + ".Envelope", envelope.getFullName());
        assertEquals(List.of("before", "after", "source", "transaction", "op", "ts_ms"), names(envelope));
        Schema value = envelope.getField("after").schema().getTypes().get(1);
        assertEquals(TOPIC + ".Value", value.getFullName());
        assertEquals(List.of("order_id", "customer_id", "price", "product_code", "note"), names(value));
        assertEquals(LogicalTypes.decimal(10, 2), value.getField("price").schema().getLogicalType());
        assertTrue(value.getField("note").schema().isNullable() && value.getField("note").hasDefaultValue(),
                "a nullable column is optional, default null: a column added is a backward-compatible version");
        assertEquals("io.debezium.connector.postgresql.Source", envelope.getField("source").schema().getFullName());
        assertEquals(TOPIC + ".Key", key.getFullName());
        assertEquals(List.of("order_id"), names(key));
    }

    @Test
    void anUpdateComesBackAsTheChangeItWas() throws Exception {
        Struct before = row(7, "312.50");
        Struct after = row(7, "299.99");
        ChangeEvent<Map<String, Object>> captured = new ChangeEvent<>(null, null, source(4711L), "u", 1_700_000_000_123L);

        GenericRecord envelope = roundTrip(ChangeEventAvro.envelope(ChangeEventAvro.envelopeSchema(TOPIC, ROW), captured,
                before, after));
        ChangeEvent<Order> change = ChangeEvent.of(ChangeEventAvro.change(envelope), Order.class);

        assertEquals(new Order(7, 3, new BigDecimal("312.50"), "BAG-01"), change.before());
        assertEquals(new Order(7, 3, new BigDecimal("299.99"), "BAG-01"), change.after());
        assertEquals("u", change.op());
        assertEquals(4711L, change.position());
        assertEquals(1_700_000_000_000L, change.sourceTimestamp());
        assertEquals(1_700_000_000_123L, change.tsMs());
    }

    @Test
    void aTruncatedRowIsADeleteOfItsLatestChangeInTheSameSchema() throws Exception {
        GenericRecord latest = roundTrip(ChangeEventAvro.envelope(ChangeEventAvro.envelopeSchema(TOPIC, ROW),
                new ChangeEvent<>(null, null, source(10L), "c", 1L), null, row(8, "10.00")));

        GenericRecord delete = ChangeEventAvro.delete(latest, source(20L), 2L);
        ChangeEvent<Order> change = ChangeEvent.of(ChangeEventAvro.change(roundTrip(delete)), Order.class);

        assertTrue(change.isDelete());
        assertEquals(new Order(8, 3, new BigDecimal("10.00"), "BAG-01"), change.before());
        assertNull(change.after());
        assertEquals(20L, change.position());
    }

    @Test
    void aRowWithoutAColumnThePipelineNeedsIsRefusedSayingWhich() {
        org.apache.kafka.connect.data.Schema withoutPrice = SchemaBuilder.struct().name(TOPIC + ".Value")
                .field("order_id", org.apache.kafka.connect.data.Schema.INT32_SCHEMA)
                .field("customer_id", org.apache.kafka.connect.data.Schema.INT32_SCHEMA)
                .field("product_code", org.apache.kafka.connect.data.Schema.STRING_SCHEMA).build();
        Struct row = new Struct(withoutPrice).put("order_id", 9).put("customer_id", 3).put("product_code", "PEN-01");
        GenericRecord envelope = ChangeEventAvro.envelope(ChangeEventAvro.envelopeSchema(TOPIC, withoutPrice),
                new ChangeEvent<>(null, null, source(30L), "c", 3L), null, row);

        InvalidRecordException refused = assertThrows(InvalidRecordException.class,
                () -> ChangeEvent.of(ChangeEventAvro.change(envelope), Order.class));
        assertTrue(refused.getMessage().contains("has no column price"), refused.getMessage());
    }

    @Test
    void aRecordThatIsNoEnvelopeIsTheRecordsFault() {
        GenericRecord notAnEnvelope = AvroRecords.record(ConfluentAvro.ENRICHED_ORDER, AvroRecordsTest.ORDER);

        InvalidRecordException refused = assertThrows(InvalidRecordException.class,
                () -> ChangeEventAvro.change(notAnEnvelope));
        assertTrue(refused.getMessage().contains("not a change envelope"), refused.getMessage());
    }

    private static Struct row(int id, String price) {
        return new Struct(ROW).put("order_id", id).put("customer_id", 3).put("price", new BigDecimal(price))
                .put("product_code", "BAG-01");
    }

    private static Map<String, Object> source(long lsn) {
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("version", "3.4.0.Final");
        source.put("connector", "postgresql");
        source.put("name", "postgres");
        source.put("ts_ms", 1_700_000_000_000L);
        source.put("snapshot", "false");
        source.put("db", "inventory");
        source.put("schema", "public");
        source.put("table", "orders");
        source.put("txId", 501L);
        source.put("lsn", lsn);
        return source;
    }

    /** Written as Avro binary and read back with the same schema, as the topic's readers do. */
    private static GenericRecord roundTrip(GenericRecord record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(record.getSchema(), GenericData.get()).write(record, encoder);
        encoder.flush();
        return new GenericDatumReader<GenericRecord>(record.getSchema())
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    }

    private static List<String> names(Schema record) {
        return record.getFields().stream().map(Schema.Field::name).toList();
    }
}
