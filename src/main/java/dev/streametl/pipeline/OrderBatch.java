package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The order changes of one batch on their way through the customer join: read once, their customers looked up all at
 * once (one lookup per batch, not per order), joined in plain Java. A delete needs no customer; an order whose customer
 * is not in the table yet waits, with the other such orders of the batch, and is looked up again until the wait is over
 * ({@link #waitsForCustomers(long, long)}): it is then unmatched.
 * <p>
 * Typed in, typed out: each change comes with its record {@code R} (whatever the caller needs to send the record to
 * the dead letter or unmatched endpoint), which the batch only hands back.
 *
 * @param <R> the record a change was read from
 */
public final class OrderBatch<R> {

    /** One order change of the batch, in record order; {@code result} once joined (or a deletion). */
    private static final class Slot<R> {
        final R record;
        final ChangeEvent<Order> change;
        EnrichedOrderChange result;
        boolean failed;

        Slot(R record, ChangeEvent<Order> change) {
            this.record = record;
            this.change = change;
        }
    }

    private final List<Slot<R>> slots = new ArrayList<>();
    private final BiConsumer<R, InvalidRecordException> reject;
    private int waiting;
    private boolean lookedUp;
    private long deadline;

    /** A batch whose records that cannot be joined (a fault of their own) go to {@code reject}. */
    public OrderBatch(BiConsumer<R, InvalidRecordException> reject) {
        this.reject = reject;
    }

    /** Adds the next order change of the batch: a deletion is done at once, an order waits for its customer. */
    public void add(R record, ChangeEvent<Order> change) {
        Slot<R> slot = new Slot<>(record, change);
        if (change.isDelete()) {
            slot.result = change.before().deletion(change.position());
        } else {
            waiting++;
        }
        slots.add(slot);
    }

    /** The ids of the customers the batch still waits for (none once every order is joined). */
    public Set<Integer> customerIds() {
        Set<Integer> ids = new LinkedHashSet<>();
        for (Slot<R> slot : slots) {
            if (isWaiting(slot)) {
                ids.add(slot.change.after().customerId());
            }
        }
        return ids;
    }

    /**
     * The join: each order still waiting whose customer is among {@code customers} (by id) becomes an
     * {@link EnrichedOrder} at its change's version. A join that fails is that record's fault: rejected, the others go on.
     */
    public void join(Map<Integer, Customer> customers) {
        lookedUp = true;
        if (waiting == 0 || customers.isEmpty()) {
            return;
        }
        for (Slot<R> slot : slots) {
            if (!isWaiting(slot)) {
                continue;
            }
            Customer customer = customers.get(slot.change.after().customerId());
            if (customer == null) {
                continue;
            }
            waiting--;
            try {
                slot.result = RecordFault.guard(() -> EnrichedOrder.of(slot.change.after(), customer, slot.change.position()));
            } catch (InvalidRecordException e) {
                slot.failed = true;
                reject.accept(slot.record, e);
            }
        }
    }

    /**
     * Whether the batch should look its customers up (again): before the first lookup if an order needs one; then, while
     * some orders are still waiting, until {@code waitMillis} after the first lookup that left some of them waiting. The
     * orders of the batch share that one wait: one after the other, many orphans would take far longer than Kafka's
     * poll interval, and the batch would lose its partitions.
     */
    public boolean waitsForCustomers(long waitMillis, long nowMillis) {
        if (waiting == 0) {
            return false;
        }
        if (!lookedUp) {
            return true;
        }
        if (deadline == 0) {
            deadline = nowMillis + waitMillis;
        }
        return nowMillis < deadline;
    }

    /** Whether the batch has looked its customers up before (the next lookup is a look again, after a pause). */
    public boolean hasLookedUp() {
        return lookedUp;
    }

    /** The enriched order changes (joined orders and deletions), in record order, each with its record. */
    public void forEachJoined(BiConsumer<R, EnrichedOrderChange> action) {
        for (Slot<R> slot : slots) {
            if (slot.result != null) {
                action.accept(slot.record, slot.result);
            }
        }
    }

    /** The enriched order changes (joined orders and deletions), in record order. */
    public List<EnrichedOrderChange> joined() {
        List<EnrichedOrderChange> joined = new ArrayList<>(slots.size());
        forEachJoined((record, change) -> joined.add(change));
        return joined;
    }

    /** The commit times at the source of the enriched order changes, in epoch ms (those known), for the lag. */
    public List<Long> sourceTimestamps() {
        List<Long> timestamps = new ArrayList<>(slots.size());
        for (Slot<R> slot : slots) {
            Long committed = slot.result == null ? null : slot.change.sourceTimestamp();
            if (committed != null) {
                timestamps.add(committed);
            }
        }
        return timestamps;
    }

    /** The number of orders joined with their customer (deletions left out). */
    public int enriched() {
        int enriched = 0;
        for (Slot<R> slot : slots) {
            if (slot.result instanceof EnrichedOrder) {
                enriched++;
            }
        }
        return enriched;
    }

    /** The order changes whose customer never came within the wait, each with its record, in record order. */
    public void forEachUnmatched(BiConsumer<R, ChangeEvent<Order>> action) {
        for (Slot<R> slot : slots) {
            if (isWaiting(slot)) {
                action.accept(slot.record, slot.change);
            }
        }
    }

    private static boolean isWaiting(Slot<?> slot) {
        return slot.result == null && !slot.failed && !slot.change.isDelete();
    }
}
