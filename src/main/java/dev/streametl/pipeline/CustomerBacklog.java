package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * What the customer table still owes the orders, worked off beside the table by {@link CustomerRewrite} passes, so
 * that applying a customer never waits for a search or a write:
 * <ul>
 * <li>in {@code current} mode, the customers updated (op {@code u}) whose indexed orders must show their new fields.
 * A new customer (op {@code c}, {@code r}) has no indexed order to rewrite: an order without its customer is not
 * indexed, it is unmatched;</li>
 * <li>the unmatched orders (read back from the unmatched topic: key order id, header {@value KafkaRecords#VERSION},
 * body the order row), kept by customer id until their customer is in the table, then joined with it at their own
 * version and loaded: Elasticsearch refuses them if a newer change of the order is there, and the
 * {@value KafkaRecords#VERSION} header lets the readers of the enriched orders topic tell.</li>
 * </ul>
 * A customer is listed once however often it changes before a pass takes it: the pass reads it from the table as it is
 * then. The unmatched orders are kept in memory (the newest change of each), until their customer comes.
 */
public final class CustomerBacklog {

    private final CustomerUpdates updates;
    private final RecordFormat format;
    private final Set<Integer> updated = new LinkedHashSet<>();
    private final Set<Integer> arrived = new LinkedHashSet<>();
    /** Unmatched orders by customer id, then by order id. */
    private final Map<Integer, Map<Integer, UnmatchedOrder>> unmatched = new HashMap<>();
    private final AtomicBoolean passesRunning = new AtomicBoolean();

    private record UnmatchedOrder(Order order, long version) {
    }

    public CustomerBacklog(CustomerUpdates updates) {
        this(updates, RecordFormat.json());
    }

    /** @param format how the unmatched orders' records are written */
    public CustomerBacklog(CustomerUpdates updates, RecordFormat format) {
        this.updates = updates;
        this.format = format;
    }

    /** Called once the table has applied a customer change (body: the change). */
    public synchronized void applied(ChangeEvent<Customer> change) {
        if (change.isDelete()) {
            return; // its orders keep the customer as they were enriched; unmatched ones wait for it to come back
        }
        int id = change.row().id();
        if (updates.isCurrent() && "u".equals(change.op())) {
            updated.add(id);
        }
        if (unmatched.containsKey(id)) {
            arrived.add(id);
        }
    }

    /** Keeps an order of the unmatched topic (the record: key, version header, order row) until its customer is there. */
    public void unmatched(Exchange exchange) {
        Message record = exchange.getMessage();
        UnmatchedOrder order = RecordFault.guard(() -> {
            long version = KafkaRecords.version(record);
            if (version < 0) {
                throw new InvalidRecordException("unmatched order without its version (header " + KafkaRecords.VERSION + ")");
            }
            Order row = format.isAvro() ? format.readOrder(record.getBody()) : Json.read(record.getBody(String.class), Order.class);
            if (row == null) {
                throw new InvalidRecordException("unmatched order record is not an order row");
            }
            Object key = record.getHeader(KafkaConstants.KEY);
            if (key != null && format.isAvro()) {
                key = format.readKey(key);
            }
            if (key != null && !row.id().equals(String.valueOf(key))) {
                throw new InvalidRecordException("unmatched order record of key " + key + " holds order " + row.id());
            }
            return new UnmatchedOrder(row, version);
        });
        synchronized (this) {
            unmatched.computeIfAbsent(order.order().customerId(), id -> new HashMap<>())
                    .merge(order.order().orderId(), order, (kept, newer) -> newer.version() >= kept.version() ? newer : kept);
            arrived.add(order.order().customerId()); // its customer may be in the table by now: the pass looks
        }
    }

    /**
     * Starts a run of passes (this exchange's) when there is work and no other run is under way; the run ends when the
     * exchange is complete. One run at a time: two passes at once could rewrite a customer's orders with its rows of two
     * moments, the older one last.
     */
    public boolean startPasses(Exchange exchange) {
        if (!hasWork() || !passesRunning.compareAndSet(false, true)) {
            return false;
        }
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                passesRunning.set(false);
            }
        });
        return true;
    }

    public synchronized boolean hasWork() {
        return !updated.isEmpty() || !arrived.isEmpty();
    }

    /** The next pass: up to {@link CustomerRewrite#CUSTOMERS} customers, taken off the backlog. */
    public synchronized CustomerRewrite next() {
        Set<Integer> ids = new LinkedHashSet<>();
        Set<Integer> toRewrite = new LinkedHashSet<>();
        take(updated, ids, toRewrite);
        take(arrived, ids, null);
        // taken after the customers were applied: a batch started later looks them up as they are now
        return new CustomerRewrite(ids, toRewrite, updates.batchesStarted());
    }

    private static void take(Set<Integer> from, Set<Integer> ids, Set<Integer> also) {
        for (Iterator<Integer> it = from.iterator(); it.hasNext() && ids.size() < CustomerRewrite.CUSTOMERS; ) {
            Integer id = it.next();
            it.remove();
            ids.add(id);
            if (also != null) {
                also.add(id);
            }
        }
    }

    /**
     * The unmatched orders of the pass's customers found in the table, joined with them at their own version (taken off
     * the backlog); those whose customer is still missing stay.
     */
    public synchronized List<EnrichedOrderChange> joinUnmatched(CustomerRewrite pass) {
        List<EnrichedOrderChange> joined = new ArrayList<>();
        for (int id : pass.ids()) {
            Customer customer = pass.customer(id);
            Map<Integer, UnmatchedOrder> orders = customer == null ? null : unmatched.remove(id);
            if (orders != null) {
                orders.values().forEach(o -> joined.add(EnrichedOrder.of(o.order(), customer, o.version())));
            }
        }
        return joined;
    }

    /** How many unmatched orders wait for their customer. */
    public synchronized int unmatchedCount() {
        return unmatched.values().stream().mapToInt(Map::size).sum();
    }
}
