package dev.streametl.pipeline;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * The Avro form of the pipeline's own record types, made from the same annotations as their JSON: one field per
 * {@code @JsonProperty} component, the components of a {@code @JsonUnwrapped} one inlined under its prefix,
 * {@code @JsonIgnore} ones left out. So a column added to {@link Customer} reaches the Avro schema of
 * {@code enriched_orders} as it reaches its JSON, with no change here.
 * <p>
 * Types: {@code int}, {@code long}, {@code boolean}, {@code double} are required; their boxed types and {@code String}
 * are optional (a union with null, default null: a field added is a backward-compatible version); a
 * {@link BigDecimal} is Kafka Connect's decimal as Debezium's Avro converter writes a {@code numeric(10,2)} column.
 */
final class AvroRecords {

    static final int DECIMAL_PRECISION = 10;
    static final int DECIMAL_SCALE = 2;

    private static final Conversions.DecimalConversion DECIMALS = new Conversions.DecimalConversion();

    private AvroRecords() {
    }

    /** The record schema of a Java record type, named after it, field for field its JSON. */
    static Schema schema(Class<? extends Record> type) {
        SchemaBuilder.FieldAssembler<Schema> fields = SchemaBuilder.record(type.getSimpleName())
                .namespace("dev.streametl").fields();
        addFields(type, "", fields);
        return fields.endRecord();
    }

    private static void addFields(Class<?> type, String prefix, SchemaBuilder.FieldAssembler<Schema> fields) {
        for (RecordComponent component : type.getRecordComponents()) {
            if (annotated(component, JsonIgnore.class) != null) {
                continue;
            }
            JsonUnwrapped unwrapped = annotated(component, JsonUnwrapped.class);
            if (unwrapped != null) {
                addFields(component.getType(), prefix + unwrapped.prefix(), fields);
                continue;
            }
            String name = prefix + name(component);
            Class<?> javaType = component.getType();
            if (javaType == int.class) {
                fields.requiredInt(name);
            } else if (javaType == long.class) {
                fields.requiredLong(name);
            } else if (javaType == boolean.class) {
                fields.requiredBoolean(name);
            } else if (javaType == double.class) {
                fields.requiredDouble(name);
            } else if (javaType == Integer.class) {
                fields.optionalInt(name);
            } else if (javaType == Long.class) {
                fields.optionalLong(name);
            } else if (javaType == Boolean.class) {
                fields.optionalBoolean(name);
            } else if (javaType == Double.class) {
                fields.optionalDouble(name);
            } else if (javaType == String.class) {
                fields.optionalString(name);
            } else if (javaType == BigDecimal.class) {
                Schema decimal = LogicalTypes.decimal(DECIMAL_PRECISION, DECIMAL_SCALE)
                        .addToSchema(Schema.create(Schema.Type.BYTES));
                fields.name(name).type(decimal).noDefault();
            } else {
                throw new IllegalArgumentException("no Avro type for " + type.getSimpleName() + "." + component.getName()
                        + " (a " + javaType.getName() + ")");
            }
        }
    }

    /** {@code value} as a record of {@code schema} (made by {@link #schema} from its type). */
    static GenericRecord record(Schema schema, Record value) {
        GenericRecord record = new GenericData.Record(schema);
        putFields(value, "", record);
        return record;
    }

    private static void putFields(Object value, String prefix, GenericRecord record) {
        for (RecordComponent component : value.getClass().getRecordComponents()) {
            if (annotated(component, JsonIgnore.class) != null) {
                continue;
            }
            Object field = get(component, value);
            JsonUnwrapped unwrapped = annotated(component, JsonUnwrapped.class);
            if (unwrapped != null) {
                if (field != null) {
                    putFields(field, prefix + unwrapped.prefix(), record);
                }
                continue;
            }
            String name = prefix + name(component);
            if (field instanceof BigDecimal decimal) {
                Schema bytes = record.getSchema().getField(name).schema();
                try {
                    field = DECIMALS.toBytes(decimal.setScale(DECIMAL_SCALE, RoundingMode.UNNECESSARY), bytes,
                            bytes.getLogicalType());
                } catch (ArithmeticException e) {
                    throw new InvalidRecordException(name + " " + decimal + " has more than " + DECIMAL_SCALE
                            + " decimals (Avro decimal(" + DECIMAL_PRECISION + "," + DECIMAL_SCALE + "))", e);
                }
            }
            record.put(name, field);
        }
    }

    /**
     * The Java value of a record read as the schema of {@code type} (its fields named as in JSON): read through the same
     * JSON creator, so a record missing a required field is refused as a JSON document missing it would be.
     */
    static <T> T value(GenericRecord record, Class<T> type) {
        Map<String, Object> fields = new LinkedHashMap<>();
        for (Schema.Field field : record.getSchema().getFields()) {
            Object value = record.get(field.pos());
            if (value instanceof ByteBuffer bytes && field.schema().getLogicalType() instanceof LogicalTypes.Decimal) {
                value = DECIMALS.fromBytes(bytes.duplicate(), field.schema(), field.schema().getLogicalType());
            } else if (value instanceof CharSequence text) {
                value = text.toString();
            }
            fields.put(field.name(), value);
        }
        try {
            return Json.MAPPER.convertValue(fields, type);
        } catch (IllegalArgumentException e) {
            throw new InvalidRecordException("not a " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static String name(RecordComponent component) {
        JsonProperty property = annotated(component, JsonProperty.class);
        return property != null && !property.value().isEmpty() ? property.value() : component.getName();
    }

    /** A Jackson annotation of a record component: Jackson's annotations reach its accessor, not the component. */
    private static <A extends java.lang.annotation.Annotation> A annotated(RecordComponent component, Class<A> type) {
        return component.getAccessor().getAnnotation(type);
    }

    private static Object get(RecordComponent component, Object value) {
        try {
            return component.getAccessor().invoke(value);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + component, e);
        }
    }
}
