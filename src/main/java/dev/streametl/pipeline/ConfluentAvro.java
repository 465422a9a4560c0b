package dev.streametl.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/**
 * Avro in Confluent's wire format, what Confluent's serializers write and every Confluent-compatible consumer (ksqlDB's
 * {@code value_format='avro'}, Kafka Connect's AvroConverter) reads: a magic byte 0, the schema's registry id in four
 * bytes (big-endian), then the Avro binary encoding of the datum. Schemas are registered under the subject
 * {@code <topic>-key} or {@code <topic>-value} (Confluent's TopicNameStrategy).
 */
public final class ConfluentAvro {

    public static final byte MAGIC_BYTE = 0;
    private static final int HEADER_BYTES = 5;

    /** The schema of an enriched order record's value (topic enriched_orders), field for field its JSON document. */
    public static final Schema ENRICHED_ORDER = AvroRecords.schema(EnrichedOrder.class);

    /** The schema of a record key that is a string (an order id, a product code). */
    public static final Schema STRING_KEY = Schema.create(Schema.Type.STRING);

    private static final Conversions.DecimalConversion DECIMALS = new Conversions.DecimalConversion();

    private final SchemaRegistry registry;
    /** By the schema instance's subject and value: no schema text made per record (the registry's own cache needs it). */
    private final Map<SubjectSchema, Integer> ids = new ConcurrentHashMap<>();

    private record SubjectSchema(String subject, Schema schema) {
    }

    public ConfluentAvro(SchemaRegistry registry) {
        this.registry = registry;
    }

    /** The record's value subject for a topic. */
    public static String valueSubject(String topic) {
        return topic + "-value";
    }

    public static String keySubject(String topic) {
        return topic + "-key";
    }

    /** {@code datum} (a GenericRecord, String, ...) as {@code schema}, registered under {@code subject}, in the wire format. */
    public byte[] write(String subject, Schema schema, Object datum) {
        int id = ids.computeIfAbsent(new SubjectSchema(subject, schema), key -> registry.register(subject, schema));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(MAGIC_BYTE);
        out.write(ByteBuffer.allocate(4).putInt(id).array(), 0, 4);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            new GenericDatumWriter<>(schema, GenericData.get()).write(datum, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        } catch (AvroRuntimeException | ClassCastException | NullPointerException e) {
            throw new InvalidRecordException("cannot be written as Avro schema " + schema.getFullName() + ": " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /**
     * The datum in a wire-format record, read with the schema it was written with (looked up by its id). Bytes that
     * are not in the wire format, or whose schema the registry does not have or cannot decode them, are an
     * {@link InvalidRecordException} saying why.
     */
    public Object read(byte[] record) {
        return read(record, null);
    }

    /**
     * The datum in a wire-format record, resolved to {@code readerSchema} (Avro's schema resolution: a field the writer
     * did not have takes its default, one the reader does not know is skipped); null reads it as written.
     */
    public Object read(byte[] record, Schema readerSchema) {
        if (record == null || record.length < HEADER_BYTES) {
            throw new InvalidRecordException("not Confluent Avro: " + (record == null ? "no bytes" : record.length + " bytes"));
        }
        if (record[0] != MAGIC_BYTE) {
            throw new InvalidRecordException("not Confluent Avro: magic byte " + record[0] + " (expected 0)");
        }
        int id = ByteBuffer.wrap(record, 1, 4).getInt();
        Schema schema = registry.schema(id);
        try {
            return new GenericDatumReader<>(schema, readerSchema == null ? schema : readerSchema, GenericData.get()).read(null,
                    DecoderFactory.get().binaryDecoder(record, HEADER_BYTES, record.length - HEADER_BYTES, null));
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException e) {
            throw new InvalidRecordException("cannot be read with its schema " + id + " (" + schema.getFullName() + ")"
                    + (readerSchema == null ? "" : " as " + readerSchema.getFullName()) + ": " + e, e);
        }
    }

    /** An enriched order as a record of {@link #ENRICHED_ORDER}. */
    public static GenericRecord enrichedOrder(EnrichedOrder order) {
        return AvroRecords.record(ENRICHED_ORDER, order);
    }

    /** An enriched order read back from a record of {@link #ENRICHED_ORDER} (or a version it can read). */
    public static EnrichedOrder enrichedOrder(GenericRecord record) {
        return AvroRecords.value(record, EnrichedOrder.class);
    }

    @Override
    public String toString() {
        return "schemas in " + registry;
    }
}
