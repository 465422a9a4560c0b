package dev.streametl.pipeline;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;

/**
 * Whether an order whose customer is not in the table yet should look again: true while the order is unmatched and
 * its wait has not run out. The customer may simply not have arrived yet (the customers topic is read by another
 * consumer, and a customer row can be committed after the order that names it).
 */
public final class CustomerWait implements Predicate {

    private static final String DEADLINE = "etlCustomerWaitDeadline";

    private final long waitMillis;

    public CustomerWait(long waitMillis) {
        this.waitMillis = waitMillis;
    }

    @Override
    public boolean matches(Exchange exchange) {
        if (!exchange.getProperty(CustomerJoin.UNMATCHED, false, Boolean.class)) {
            return false;
        }
        long now = System.currentTimeMillis();
        Long deadline = exchange.getProperty(DEADLINE, Long.class);
        if (deadline == null) {
            deadline = now + waitMillis;
            exchange.setProperty(DEADLINE, deadline);
        }
        return now < deadline;
    }
}
