package dev.streametl.pipeline;

import java.math.BigDecimal;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;

/**
 * The lab's marketing question: a big order (price above the threshold) from a customer who is not premium.
 */
public final class HighValueProspect implements Predicate {

    private final BigDecimal minimumPrice;

    public HighValueProspect(BigDecimal minimumPrice) {
        this.minimumPrice = minimumPrice;
    }

    @Override
    public boolean matches(Exchange exchange) {
        EnrichedOrder order = exchange.getMessage().getBody(EnrichedOrder.class);
        return order.price().compareTo(minimumPrice) > 0 && !"premium".equals(order.customerMembership());
    }
}
