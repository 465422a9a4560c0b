package dev.streametl.pipeline;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;

/**
 * The lab's marketing question: a big order (price above the threshold) from a customer who is not premium.
 */
public final class HighValueProspect {

    private final BigDecimal minimumPrice;
    private final RecordFormat format;
    /** Where the prospects go: the subject of their schemas in Avro. */
    private final String topic;

    public HighValueProspect(BigDecimal minimumPrice) {
        this(minimumPrice, RecordFormat.json(), null);
    }

    public HighValueProspect(BigDecimal minimumPrice, RecordFormat format, String topic) {
        this.minimumPrice = minimumPrice;
        this.format = format;
        this.topic = topic;
    }

    public boolean test(EnrichedOrder order) {
        return order.price().compareTo(minimumPrice) > 0 && !"premium".equals(order.customer().membership());
    }

    /** The order if it is a prospect, else null. */
    private EnrichedOrder prospect(EnrichedOrder order) {
        return test(order) ? order : null;
    }

    /**
     * The prospects among a batch of {@code enriched_orders} records, as Kafka records for a kafka: producer: key =
     * order id, value = the enriched order as it came (no second serialization). Tombstones are skipped; a record that
     * is not an enriched order is set aside for the dead letter endpoint ({@link DeadLetter#rejected}).
     */
    public List<Message> prospects(Exchange batch) {
        List<Message> prospects = new ArrayList<>();
        for (Message record : KafkaBatch.records(batch)) {
            Object value = format.isAvro() ? record.getBody() : record.getBody(String.class);
            if (value == null) {
                continue;
            }
            DeadLetter.processOrReject(batch, record, () -> prospect(format.readEnrichedOrder(value)))
                    .ifPresent(order -> {
                        Message prospect = new DefaultMessage(batch);
                        prospect.setHeader(KafkaConstants.KEY, format.key(topic, order.id()));
                        // JSON: as it came (no second serialization); Avro: under this topic's own subject
                        prospect.setBody(format.isAvro() ? format.enrichedOrder(topic, order) : value);
                        prospects.add(prospect);
                    });
        }
        return prospects;
    }
}
