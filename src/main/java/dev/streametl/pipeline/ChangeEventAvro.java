package dev.streametl.pipeline;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

/**
 * The change topics in Avro as Debezium's Avro converter writes them, so that a Confluent-compatible reader (ksqlDB's
 * {@code CREATE STREAM ... WITH (value_format='avro')}, a sink connector) reads them as it reads Debezium's own: key
 * record {@code <topic>.Key} of the primary key columns; value record {@code <topic>.Envelope} with {@code before} and
 * {@code after} (optional records {@code <topic>.Value} of every column of the row, made from the row's Kafka Connect
 * schema, so a column added in PostgreSQL is a new schema version), {@code source}
 * ({@code io.debezium.connector.postgresql.Source}), {@code transaction}, {@code op} and {@code ts_ms}.
 * <p>
 * The rest of the pipeline keeps to {@link ChangeEvent}: a record read back becomes one with plain Java values.
 */
public final class ChangeEventAvro {

    /** Debezium's PostgreSQL source block, field for field. */
    public static final Schema SOURCE = SchemaBuilder.record("Source").namespace("io.debezium.connector.postgresql")
            .prop("connect.name", "io.debezium.connector.postgresql.Source")
            .fields()
            .requiredString("version")
            .requiredString("connector")
            .requiredString("name")
            .requiredLong("ts_ms")
            .name("snapshot").type().unionOf().nullType().and().stringType().endUnion().nullDefault()
            .requiredString("db")
            .optionalString("sequence")
            .optionalLong("ts_us")
            .optionalLong("ts_ns")
            .requiredString("schema")
            .requiredString("table")
            .optionalLong("txId")
            .optionalLong("lsn")
            .optionalLong("xmin")
            .endRecord();

    /** Debezium's transaction block (written null: transaction metadata is off). */
    static final Schema TRANSACTION = SchemaBuilder.record("block").namespace("event").fields()
            .requiredString("id")
            .requiredLong("total_order")
            .requiredLong("data_collection_order")
            .endRecord();

    private static final Conversions.DecimalConversion DECIMALS = new Conversions.DecimalConversion();
    private static final Map<TopicSchema, Schema> SCHEMAS = new ConcurrentHashMap<>();

    private record TopicSchema(String topic, String kind, org.apache.kafka.connect.data.Schema schema) {
    }

    private ChangeEventAvro() {
    }

    /** The key schema of a change topic: record {@code <topic>.Key} of the key's columns. */
    public static Schema keySchema(String topic, org.apache.kafka.connect.data.Schema key) {
        return SCHEMAS.computeIfAbsent(new TopicSchema(topic, "Key", key), k -> record(topic, "Key", key));
    }

    /** The value schema of a change topic whose rows have the Connect schema {@code row}. */
    public static Schema envelopeSchema(String topic, org.apache.kafka.connect.data.Schema row) {
        return SCHEMAS.computeIfAbsent(new TopicSchema(topic, "Envelope", row), k -> envelope(topic, record(topic, "Value", row)));
    }

    private static Schema envelope(String topic, Schema value) {
        return SchemaBuilder.record("Envelope").namespace(topic).prop("connect.name", topic + ".Envelope").fields()
                .name("before").type(nullable(value)).withDefault(null)
                .name("after").type(nullable(value)).withDefault(null)
                .name("source").type(SOURCE).noDefault()
                .name("transaction").type(nullable(TRANSACTION)).withDefault(null)
                .requiredString("op")
                .optionalLong("ts_ms")
                .endRecord();
    }

    private static Schema record(String topic, String name, org.apache.kafka.connect.data.Schema connect) {
        SchemaBuilder.FieldAssembler<Schema> fields = SchemaBuilder.record(name).namespace(topic)
                .prop("connect.name", topic + "." + name).fields();
        for (Field field : connect.fields()) {
            Schema type = avro(field.schema());
            Object defaultValue = defaultValue(type, field.schema().defaultValue());
            if (field.schema().isOptional() && defaultValue == null) {
                fields.name(field.name()).type(nullable(type)).withDefault(null);
            } else if (field.schema().isOptional()) {
                fields.name(field.name()).type(Schema.createUnion(type, Schema.create(Schema.Type.NULL)))
                        .withDefault(defaultValue);
            } else if (defaultValue != null) {
                fields.name(field.name()).type(type).withDefault(defaultValue);
            } else {
                fields.name(field.name()).type(type).noDefault();
            }
        }
        return fields.endRecord();
    }

    private static Schema nullable(Schema type) {
        return Schema.createUnion(Schema.create(Schema.Type.NULL), type);
    }

    /** Kafka Connect's type as Confluent's AvroData maps it; what it has no Avro type for is written as text. */
    private static Schema avro(org.apache.kafka.connect.data.Schema connect) {
        String name = connect.name();
        if (Decimal.LOGICAL_NAME.equals(name)) {
            int scale = Integer.parseInt(connect.parameters().get(Decimal.SCALE_FIELD));
            String precision = connect.parameters().get("connect.decimal.precision");
            Schema bytes = LogicalTypes.decimal(precision == null ? 64 : Integer.parseInt(precision), scale)
                    .addToSchema(Schema.create(Schema.Type.BYTES));
            bytes.addProp("connect.name", name);
            return bytes;
        }
        if (Date.LOGICAL_NAME.equals(name)) {
            return LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
        }
        if (Time.LOGICAL_NAME.equals(name)) {
            return LogicalTypes.timeMillis().addToSchema(Schema.create(Schema.Type.INT));
        }
        if (Timestamp.LOGICAL_NAME.equals(name)) {
            return LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
        }
        Schema schema = switch (connect.type()) {
            case INT8, INT16, INT32 -> Schema.create(Schema.Type.INT);
            case INT64 -> Schema.create(Schema.Type.LONG);
            case FLOAT32 -> Schema.create(Schema.Type.FLOAT);
            case FLOAT64 -> Schema.create(Schema.Type.DOUBLE);
            case BOOLEAN -> Schema.create(Schema.Type.BOOLEAN);
            case BYTES -> Schema.create(Schema.Type.BYTES);
            case ARRAY -> Schema.createArray(connect.valueSchema().isOptional()
                    ? nullable(avro(connect.valueSchema())) : avro(connect.valueSchema()));
            default -> Schema.create(Schema.Type.STRING); // STRING, and MAP / STRUCT columns as their JSON
        };
        if (connect.type() == org.apache.kafka.connect.data.Schema.Type.INT8
                || connect.type() == org.apache.kafka.connect.data.Schema.Type.INT16) {
            schema.addProp("connect.type", connect.type().getName());
        }
        if (name != null) {
            schema.addProp("connect.name", name); // Debezium's semantic types (io.debezium.time.MicroTimestamp, ...)
        }
        return schema;
    }

    /** A column's default as the Avro schema's default; null when there is none, or none Avro's JSON can hold simply. */
    private static Object defaultValue(Schema type, Object value) {
        if (value == null) {
            return null;
        }
        Object avro = value(type, value);
        return avro instanceof ByteBuffer || avro instanceof List<?> ? null : avro;
    }

    /** The key of a change as a record of {@code schema} ({@link #keySchema}). */
    public static GenericRecord key(Schema schema, Struct key) {
        return row(schema, key);
    }

    /**
     * A captured change as a record of {@code schema} ({@link #envelopeSchema}): {@code before} and {@code after} from
     * their structs, the rest from {@code change} (source, op, ts_ms).
     */
    public static GenericRecord envelope(Schema schema, ChangeEvent<?> change, Struct before, Struct after) {
        Schema value = schema.getField("after").schema().getTypes().get(1);
        GenericRecord envelope = new GenericData.Record(schema);
        envelope.put("before", before == null ? null : row(value, before));
        envelope.put("after", after == null ? null : row(value, after));
        envelope.put("source", source(change.source()));
        envelope.put("op", change.op());
        envelope.put("ts_ms", change.tsMs());
        return envelope;
    }

    /**
     * A delete of the row {@code latest} (a change read from the topic) dated {@code source}, in {@code latest}'s schema:
     * what a TRUNCATE stands for.
     */
    public static GenericRecord delete(GenericRecord latest, Map<String, Object> source, Long tsMs) {
        GenericRecord delete = new GenericData.Record(latest.getSchema());
        delete.put("before", latest.get("after"));
        delete.put("after", null);
        delete.put("source", source(source));
        delete.put("op", "d");
        delete.put("ts_ms", tsMs);
        return delete;
    }

    private static GenericRecord row(Schema schema, Struct struct) {
        GenericRecord row = new GenericData.Record(schema);
        for (Schema.Field field : schema.getFields()) {
            Object value = struct.get(field.name());
            row.put(field.pos(), value == null ? null : value(nonNull(field.schema()), value));
        }
        return row;
    }

    private static Schema nonNull(Schema schema) {
        if (schema.getType() != Schema.Type.UNION) {
            return schema;
        }
        return schema.getTypes().stream().filter(t -> t.getType() != Schema.Type.NULL).findFirst().orElseThrow();
    }

    private static Object value(Schema schema, Object value) {
        return switch (schema.getType()) {
            case INT -> value instanceof java.util.Date date ? (schema.getLogicalType() instanceof LogicalTypes.Date
                    ? (int) Math.floorDiv(date.getTime(), 86_400_000L) : (int) date.getTime())
                    : ((Number) value).intValue();
            case LONG -> value instanceof java.util.Date date ? date.getTime() : ((Number) value).longValue();
            case BYTES -> value instanceof BigDecimal decimal
                    ? DECIMALS.toBytes(decimal, schema, schema.getLogicalType())
                    : value instanceof byte[] bytes ? ByteBuffer.wrap(bytes) : value;
            case ARRAY -> {
                List<Object> items = new ArrayList<>();
                for (Object item : (List<?>) value) {
                    items.add(item == null ? null : value(nonNull(schema.getElementType()), item));
                }
                yield items;
            }
            case STRING -> value instanceof Struct || value instanceof Map<?, ?>
                    ? Json.write(ChangeEventMapper.toMap(value)) : value.toString();
            default -> value;
        };
    }

    private static GenericRecord source(Map<String, Object> source) {
        if (source == null) {
            throw new InvalidRecordException("a change with no source block");
        }
        GenericRecord record = new GenericData.Record(SOURCE);
        for (Schema.Field field : SOURCE.getFields()) {
            Object value = source.get(field.name());
            Schema type = nonNull(field.schema());
            if (value == null && field.schema().getType() != Schema.Type.UNION) {
                throw new InvalidRecordException("a change whose source block has no " + field.name());
            }
            record.put(field.pos(), value == null ? null : type.getType() == Schema.Type.LONG
                    ? Long.valueOf(((Number) value).longValue()) : value.toString());
        }
        return record;
    }

    /**
     * A change record read back (an {@link #envelopeSchema} record, any version) as a {@link ChangeEvent} of plain Java
     * values: rows and source as maps by column, text as String, decimals as BigDecimal, numbers as they are.
     */
    @SuppressWarnings("unchecked")
    public static ChangeEvent<Map<String, Object>> change(GenericRecord envelope) {
        Schema schema = envelope.getSchema();
        for (String field : List.of("before", "after", "source", "op")) {
            if (schema.getField(field) == null) {
                throw new InvalidRecordException("not a change envelope: a record " + schema.getFullName() + " without " + field);
            }
        }
        Object tsMs = schema.getField("ts_ms") == null ? null : envelope.get("ts_ms");
        Object op = envelope.get("op");
        return new ChangeEvent<>((Map<String, Object>) plain(envelope.get("before"), null),
                (Map<String, Object>) plain(envelope.get("after"), null),
                (Map<String, Object>) plain(envelope.get("source"), null),
                op == null ? null : op.toString(), tsMs instanceof Number n ? n.longValue() : null);
    }

    private static Object plain(Object value, Schema schema) {
        if (value == null) {
            return null;
        }
        if (value instanceof GenericRecord record) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (Schema.Field field : record.getSchema().getFields()) {
                map.put(field.name(), plain(record.get(field.pos()), nonNull(field.schema())));
            }
            return map;
        }
        if (value instanceof CharSequence text) {
            return text.toString();
        }
        if (value instanceof ByteBuffer bytes) {
            if (schema != null && schema.getLogicalType() instanceof LogicalTypes.Decimal) {
                return DECIMALS.fromBytes(bytes.duplicate(), schema, schema.getLogicalType());
            }
            ByteBuffer copy = bytes.duplicate();
            byte[] array = new byte[copy.remaining()];
            copy.get(array);
            return array;
        }
        if (value instanceof List<?> list) {
            List<Object> items = new ArrayList<>(list.size());
            for (Object item : list) {
                items.add(plain(item, schema == null ? null : nonNull(schema.getElementType())));
            }
            return items;
        }
        if (value instanceof GenericData.EnumSymbol symbol) {
            return symbol.toString();
        }
        return value;
    }
}
