package dev.streametl.pipeline;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.camel.CamelContext;
import org.apache.camel.Message;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the pipeline writes and reads the records of its own topics ({@code etl.format}): JSON strings (the default), or
 * Avro in Confluent's wire format with the schemas in a schema registry ({@link ConfluentAvro}), keys and values both.
 * Avro covers the change topics (as Debezium's Avro converter writes them, {@link ChangeEventAvro}), the unmatched
 * orders, {@code enriched_orders} and the topics made from it; a dead letter keeps the original record's bytes.
 */
public final class RecordFormat {

    /** The endpoints that carry Avro when the format is avro: their Kafka (de)serializers become byte arrays. */
    static final List<String> AVRO_PRODUCERS = List.of("etl.capture.sink", "etl.orders.unmatched", "etl.load.kafka",
            "etl.prospects.sink", "etl.product-sales.kafka",
            "etl.dead-letter.sink"); // a dead letter keeps the original bytes (Avro is not text)
    static final List<String> AVRO_CONSUMERS = List.of("etl.customers.source", "etl.orders.source",
            "etl.orders.unmatched-source", "etl.prospects.source", "etl.product-sales.source");

    /** The schema of an unmatched order's value: the order row. */
    static final Schema ORDER = AvroRecords.schema(Order.class);

    public static final Schema PRODUCT_SALES = AvroRecords.schema(ProductSales.class);

    private static final Logger LOG = LoggerFactory.getLogger(RecordFormat.class);
    private static final RecordFormat JSON = new RecordFormat(null);

    /** Null: JSON. */
    private final ConfluentAvro avro;

    private RecordFormat(ConfluentAvro avro) {
        this.avro = avro;
    }

    public static RecordFormat json() {
        return JSON;
    }

    public static RecordFormat avro(SchemaRegistry registry) {
        return new RecordFormat(new ConfluentAvro(registry));
    }

    /**
     * The format a setting names ({@code etl.format}: json, the default, or avro); Avro's schema registry connects as
     * the other properties say ({@code etl.schema-registry.*}).
     */
    public static RecordFormat from(String format, Function<String, String> properties) {
        String name = format == null || format.isBlank() ? "json" : format.trim().toLowerCase(Locale.ROOT);
        return switch (name) {
            case "json" -> JSON;
            case "avro" -> avro(SchemaRegistry.from(properties));
            default -> throw new IllegalArgumentException("etl.format must be json or avro, not " + name);
        };
    }

    /**
     * Avro records are bytes: the Kafka endpoints that carry them get byte-array (de)serializers (Camel's default is
     * String, which would mangle them). Called before the routes are made; endpoints that are not Kafka are left alone.
     */
    public void configureEndpoints(CamelContext context) {
        if (!isAvro()) {
            return;
        }
        PropertiesComponent properties = context.getPropertiesComponent();
        for (String key : AVRO_PRODUCERS) {
            addToKafkaUri(properties, key, "keySerializer=org.apache.kafka.common.serialization.ByteArraySerializer"
                    + "&valueSerializer=org.apache.kafka.common.serialization.ByteArraySerializer");
        }
        for (String key : AVRO_CONSUMERS) {
            addToKafkaUri(properties, key, "keyDeserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer"
                    + "&valueDeserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer");
        }
        LOG.info("Format avro: the change topics, unmatched orders, enriched_orders and the insights in Confluent's Avro"
                + " wire format, {}", avro);
    }

    private static void addToKafkaUri(PropertiesComponent properties, String key, String parameters) {
        properties.resolveProperty(key).map(String::trim).filter(uri -> uri.startsWith("kafka:")).ifPresent(uri ->
                properties.addOverrideProperty(key, uri + (uri.contains("?") ? "&" : "?") + parameters));
    }

    public boolean isAvro() {
        return avro != null;
    }

    /** A record key (an order id, a product code). */
    public Object key(String topic, String key) {
        return avro == null ? key : avro.write(ConfluentAvro.keySubject(topic), ConfluentAvro.STRING_KEY, key);
    }

    /** A record key as text; null stays null. */
    public String readKey(Object key) {
        if (key == null || avro == null) {
            return key == null ? null : key instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8) : key.toString();
        }
        return avro.read(bytes(key)).toString();
    }

    public Object enrichedOrder(String topic, EnrichedOrder order) {
        return avro == null ? Json.write(order)
                : avro.write(ConfluentAvro.valueSubject(topic), ConfluentAvro.ENRICHED_ORDER, ConfluentAvro.enrichedOrder(order));
    }

    /**
     * The record value of an order's write: in JSON, the JSON the load stage made for both sinks (as text: the endpoint's
     * string serializer encodes it back to the very same bytes); in Avro, the order in Avro.
     */
    public Object enrichedOrder(String topic, OrderWrite write) {
        if (write.json() == null) {
            return null; // a deletion: a tombstone
        }
        return avro == null ? write.jsonText() : enrichedOrder(topic, (EnrichedOrder) write.change());
    }

    /** The enriched order in a record value (JSON text or Avro bytes); an unreadable one is an InvalidRecordException. */
    public EnrichedOrder readEnrichedOrder(Object value) {
        if (avro == null) {
            return Json.read(value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                    : value.toString(), EnrichedOrder.class);
        }
        // read as the current schema: a record of it, or refused (InvalidRecordException) if Avro cannot resolve it
        return ConfluentAvro.enrichedOrder((GenericRecord) avro.read(bytes(value), ConfluentAvro.ENRICHED_ORDER));
    }

    /** A record (key or value) of its own schema, registered under {@code subject}, in the wire format. */
    public byte[] avroRecord(String subject, GenericRecord record) {
        return avro.write(subject, record.getSchema(), record);
    }

    /**
     * A record of a change topic (its value: JSON text, or Avro as Debezium's converter writes it) as a change of rows
     * of {@code rowType}, checked as {@link ChangeEvent#parse} checks; an unreadable one is an InvalidRecordException.
     */
    public <T> ChangeEvent<T> readChange(Message record, Class<T> rowType) {
        return avro == null ? ChangeEvent.parse(record.getBody(String.class), rowType) : readChange(record.getBody(), rowType);
    }

    /** {@link #readChange(Message, Class)} for a record's value (JSON: text or UTF-8 bytes). */
    public <T> ChangeEvent<T> readChange(Object value, Class<T> rowType) {
        if (avro == null) {
            return ChangeEvent.parse(value == null ? null : value instanceof byte[] bytes
                    ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8) : value.toString(), rowType);
        }
        return ChangeEvent.of(ChangeEventAvro.change(genericRecord(avro.read(bytes(value)), "a change envelope")), rowType);
    }

    /**
     * The delete of the row of {@code latest} (a change record's value as read from {@code topic}, {@code change} as
     * read by {@link #readChange(Object, Class)}) dated by {@code source}: what a TRUNCATE stands for, in the record's
     * own format (in Avro, its own schema).
     */
    public Object truncatedDelete(String topic, Object latest, ChangeEvent<Map<String, Object>> change,
                                  Map<String, Object> source, Long tsMs) {
        if (avro == null) {
            return Json.write(new ChangeEvent<>(change.row(), null, source, "d", tsMs));
        }
        GenericRecord envelope = genericRecord(avro.read(bytes(latest)), "a change envelope");
        return avroRecord(ConfluentAvro.valueSubject(topic), ChangeEventAvro.delete(envelope, source, tsMs));
    }

    /** An order row, the value of an unmatched order's record. */
    public Object order(String topic, Order order) {
        return avro == null ? Json.write(order)
                : avro.write(ConfluentAvro.valueSubject(topic), ORDER, AvroRecords.record(ORDER, order));
    }

    /** The order row of an unmatched order's record; an unreadable one is an InvalidRecordException. */
    public Order readOrder(Object value) {
        if (avro == null) {
            return Json.read(value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                    : value.toString(), Order.class);
        }
        return AvroRecords.value(genericRecord(avro.read(bytes(value), ORDER), "an order"), Order.class);
    }

    private static GenericRecord genericRecord(Object datum, String what) {
        if (datum instanceof GenericRecord record) {
            return record;
        }
        throw new InvalidRecordException("not " + what + ": " + (datum == null ? "null" : "a " + datum.getClass().getSimpleName()));
    }

    public Object productSales(String topic, ProductSales sales) {
        if (avro == null) {
            return Json.write(sales);
        }
        return avro.write(ConfluentAvro.valueSubject(topic), PRODUCT_SALES, AvroRecords.record(PRODUCT_SALES, sales));
    }

    private static byte[] bytes(Object value) {
        if (value instanceof byte[] bytes) {
            return bytes;
        }
        throw new InvalidRecordException("not Confluent Avro: a " + value.getClass().getSimpleName() + ", not bytes");
    }

    @Override
    public String toString() {
        return avro == null ? "json" : "avro";
    }
}
