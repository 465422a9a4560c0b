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

    public HighValueProspect(BigDecimal minimumPrice) {
        this.minimumPrice = minimumPrice;
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
            String json = record.getBody(String.class);
            if (json == null) {
                continue;
            }
            DeadLetter.processOrReject(batch, record, () -> prospect(Json.read(json, EnrichedOrder.class)))
                    .ifPresent(order -> {
                        Message prospect = new DefaultMessage(batch);
                        prospect.setHeader(KafkaConstants.KEY, order.id());
                        prospect.setBody(json);
                        prospects.add(prospect);
                    });
        }
        return prospects;
    }
}
