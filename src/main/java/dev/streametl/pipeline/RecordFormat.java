package dev.streametl.pipeline;

import java.util.List;
import java.util.Locale;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the pipeline writes and reads the records of its own topics ({@code etl.format}): JSON strings (the default), or
 * Avro in Confluent's wire format with the schemas in a schema registry ({@link ConfluentAvro}), keys and values both.
 * So far Avro covers {@code enriched_orders} and the topics made from it ({@code high_value_prospects},
 * {@code product_sales}); the change topics, unmatched orders and dead letters stay JSON.
 */
public final class RecordFormat {

    /** The registry name of the one instance of a Camel context (one cache of schema ids). */
    public static final String BEAN = "recordFormat";

    /** The endpoints that carry Avro when the format is avro: their Kafka (de)serializers become byte arrays. */
    static final List<String> AVRO_PRODUCERS = List.of("etl.load.kafka", "etl.prospects.sink", "etl.product-sales.kafka",
            "etl.dead-letter.sink"); // a dead letter keeps the original bytes (Avro is not text)
    static final List<String> AVRO_CONSUMERS = List.of("etl.prospects.source", "etl.product-sales.source");

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

    /** The format {@code etl.format} names, made once per context. */
    public static synchronized RecordFormat of(CamelContext context) {
        RecordFormat known = context.getRegistry().lookupByNameAndType(BEAN, RecordFormat.class);
        if (known != null) {
            return known;
        }
        PropertiesComponent properties = context.getPropertiesComponent();
        String format = properties.resolveProperty("etl.format").orElse("json").trim().toLowerCase(Locale.ROOT);
        RecordFormat made = switch (format) {
            case "json" -> JSON;
            case "avro" -> avro(SchemaRegistry.from(key -> properties.resolveProperty(key).orElse(null)));
            default -> throw new IllegalArgumentException("etl.format must be json or avro, not " + format);
        };
        context.getRegistry().bind(BEAN, RecordFormat.class, made);
        return made;
    }

    /**
     * Avro records are bytes: the Kafka endpoints that carry them get byte-array (de)serializers (Camel's default is
     * String, which would mangle them). Called before the routes are made; endpoints that are not Kafka are left alone.
     */
    public static void configureEndpoints(CamelContext context) {
        if (!of(context).isAvro()) {
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
        LOG.info("Format avro: enriched_orders and the topics made from it in Confluent's Avro wire format, {}",
                of(context).avro);
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

    /** The enriched order in a record value (JSON text or Avro bytes); an unreadable one is an InvalidRecordException. */
    public EnrichedOrder readEnrichedOrder(Object value) {
        if (avro == null) {
            return Json.read(value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                    : value.toString(), EnrichedOrder.class);
        }
        Object datum = avro.read(bytes(value), ConfluentAvro.ENRICHED_ORDER); // any version it can read as the current one
        if (!(datum instanceof GenericRecord record) || record.getSchema().getField("order_id") == null) {
            throw new InvalidRecordException("not an enriched order: a record of schema "
                    + (datum instanceof GenericRecord r ? r.getSchema().getFullName() : String.valueOf(datum)));
        }
        try {
            return ConfluentAvro.enrichedOrder(record);
        } catch (ClassCastException | NullPointerException e) {
            throw new InvalidRecordException("not an enriched order: " + e.getMessage(), e);
        }
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
