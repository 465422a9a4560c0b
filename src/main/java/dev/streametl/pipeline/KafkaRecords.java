package dev.streametl.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;

/**
 * Kafka records for a kafka: producer, which sends a list of messages as one batch and waits for every ack. Keys make
 * the topics compactable: the latest record per key is the current state, and a null value (tombstone) deletes it.
 */
public final class KafkaRecords {

    /**
     * Header of an enriched order record (and of an unmatched order): the version of the change it shows, its position
     * in the source ({@link EnrichedOrderChange#version()}), so that a reader can tell a stale record from a newer one.
     */
    public static final String VERSION = "etl.version";

    private KafkaRecords() {
    }

    public static List<Message> ofEnrichedOrders(Exchange exchange) {
        return ofEnrichedOrders(exchange, RecordFormat.json(), null);
    }

    /**
     * The same, in {@code format}, for {@code topic} (the subject of its schemas in Avro), from a batch of
     * {@link OrderWrite}s (or of changes, whose JSON is made here): in JSON, each value is the JSON the load stage made.
     */
    public static List<Message> ofEnrichedOrders(Exchange exchange, RecordFormat format, String topic) {
        List<OrderWrite> writes = OrderWrite.ofBatch(exchange.getMessage().getBody(List.class));
        List<Message> records = new ArrayList<>(writes.size());
        for (OrderWrite write : writes) {
            EnrichedOrderChange change = write.change();
            Message record = record(exchange, format.key(topic, change.id()), format.enrichedOrder(topic, write));
            record.setHeader(VERSION, String.valueOf(change.version()));
            records.add(record);
        }
        return records;
    }

    /**
     * The version of an enriched order record (header {@value #VERSION}), or {@link EnrichedOrderChange#UNKNOWN_VERSION}
     * when it has none (a record written by something else than the pipeline).
     */
    public static long version(Message record) {
        Object header = record.getHeader(VERSION);
        if (header == null) {
            return EnrichedOrderChange.UNKNOWN_VERSION;
        }
        String text = header instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : header.toString();
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new InvalidRecordException("header " + VERSION + " is not a number: " + text);
        }
    }

    public static List<Message> ofProductSales(Exchange exchange) {
        return ofProductSales(exchange, RecordFormat.json(), null);
    }

    /** The same, in {@code format}, for {@code topic}. */
    public static List<Message> ofProductSales(Exchange exchange, RecordFormat format, String topic) {
        List<?> sales = exchange.getMessage().getBody(List.class);
        String version = String.valueOf(exchange.getProperty(ProductSalesStage.VERSION, Long.class)); // the counts' state offset
        List<Message> records = new ArrayList<>(sales.size());
        for (Object each : sales) {
            ProductSales productSales = (ProductSales) each;
            Message record = record(exchange, format.key(topic, productSales.productCode()), format.productSales(topic, productSales));
            record.setHeader(VERSION, version);
            records.add(record);
        }
        return records;
    }

    private static Message record(Exchange exchange, Object key, Object value) {
        Message message = new DefaultMessage(exchange);
        message.setHeader(KafkaConstants.KEY, key);
        message.setBody(value);
        return message;
    }
}
