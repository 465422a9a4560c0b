package dev.streametl.pipeline;

import java.util.concurrent.atomic.AtomicLong;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;

/**
 * Whether an order whose customer is not in the table yet should look again: true while the order is unmatched and
 * its wait has not run out. The customer may simply not have arrived yet (the customers topic is read by another
 * consumer, and a customer row can be committed after the order that names it).
 * <p>
 * The orders of one batch share one wait: it starts when the first of them has to wait, and ends at most the wait
 * later for all of them. Otherwise a batch of many orphans would take their waits one after the other (500 x 30 s),
 * far beyond Kafka's poll interval, and lose its partitions. Call {@link #startBatch(Exchange)} on the batch first.
 */
public final class CustomerWait implements Predicate {

    private static final String DEADLINE = "etlCustomerWaitDeadline";
    private static final String BATCH_DEADLINE = "etlCustomerWaitBatchDeadline";

    private final long waitMillis;

    public CustomerWait(long waitMillis) {
        this.waitMillis = waitMillis;
    }

    /** Gives the records of a batch (the exchanges split from this one) a wait to share; none has started yet. */
    public static void startBatch(Exchange batch) {
        batch.setProperty(BATCH_DEADLINE, new AtomicLong());
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
            AtomicLong batchDeadline = exchange.getProperty(BATCH_DEADLINE, AtomicLong.class);
            if (batchDeadline != null) {
                long ownDeadline = deadline;
                deadline = batchDeadline.updateAndGet(shared -> shared == 0 ? ownDeadline : shared);
            }
            exchange.setProperty(DEADLINE, deadline);
        }
        return now < deadline;
    }
}
