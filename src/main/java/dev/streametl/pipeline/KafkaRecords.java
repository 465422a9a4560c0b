package dev.streametl.pipeline;

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

    private KafkaRecords() {
    }

    public static List<Message> ofEnrichedOrders(Exchange exchange) {
        List<?> changes = exchange.getMessage().getBody(List.class);
        List<Message> records = new ArrayList<>(changes.size());
        for (Object change : changes) {
            EnrichedOrderChange orderChange = (EnrichedOrderChange) change;
            Object value = orderChange instanceof EnrichedOrder order ? Json.write(order) : null;
            records.add(record(exchange, orderChange.id(), value));
        }
        return records;
    }

    public static List<Message> ofProductSales(Exchange exchange) {
        List<?> sales = exchange.getMessage().getBody(List.class);
        List<Message> records = new ArrayList<>(sales.size());
        for (Object each : sales) {
            ProductSales productSales = (ProductSales) each;
            records.add(record(exchange, productSales.productCode(), Json.write(productSales)));
        }
        return records;
    }

    private static Message record(Exchange exchange, String key, Object value) {
        Message message = new DefaultMessage(exchange);
        message.setHeader(KafkaConstants.KEY, key);
        message.setBody(value);
        return message;
    }
}
