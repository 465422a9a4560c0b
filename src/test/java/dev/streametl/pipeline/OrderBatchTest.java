package dev.streametl.pipeline;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The customer join of a batch, in plain Java: typed in, typed out, no Camel. */
class OrderBatchTest {

    static final Customer ANNA = new Customer(3, "Anna Berg", 41, "standard");
    static final Customer BRUNO = new Customer(4, "Bruno Lind", 35, "premium");

    final List<String> rejected = new ArrayList<>();
    final OrderBatch<String> batch = new OrderBatch<>((record, cause) -> rejected.add(record + ": " + cause.getMessage()));

    @Test
    void joinsEachOrderWithItsCustomerInRecordOrderAndDeletesNeedNoCustomer() {
        batch.add("r1", upsert(7, 3, "MUG-02", 100));
        batch.add("r2", delete(8, 4, "PEN-05", 101));
        batch.add("r3", upsert(9, 4, "CAP-03", 102));
        assertEquals(Set.of(3, 4), batch.customerIds());
        assertTrue(batch.waitsForCustomers(1000, 0), "a first lookup");

        batch.join(Map.of(3, ANNA, 4, BRUNO));

        assertEquals(List.of(EnrichedOrder.of(order(7, 3, "MUG-02"), ANNA, 100), new OrderDeletion(8, 101),
                EnrichedOrder.of(order(9, 4, "CAP-03"), BRUNO, 102)), batch.joined());
        assertEquals(2, batch.enriched());
        assertFalse(batch.waitsForCustomers(1000, 0), "nothing left to wait for");
        assertEquals(List.of(10_000L, 10_100L, 10_200L), batch.sourceTimestamps());
    }

    @Test
    void theOrdersOfACustomerNotYetKnownShareOneWaitThenAreUnmatched() {
        batch.add("r1", upsert(7, 3, "MUG-02", 100));
        batch.add("r2", upsert(8, 99, "PEN-05", 101));
        batch.add("r3", upsert(9, 98, "PEN-05", 102));
        batch.join(Map.of(3, ANNA));
        assertEquals(Set.of(99, 98), batch.customerIds());

        assertTrue(batch.waitsForCustomers(1000, 5_000), "the wait starts");
        batch.join(Map.of(98, new Customer(98, "Late", 20, "standard")));
        assertTrue(batch.waitsForCustomers(1000, 5_999), "one wait for the batch, not one per order");
        assertFalse(batch.waitsForCustomers(1000, 6_000), "over");

        List<String> unmatched = new ArrayList<>();
        batch.forEachUnmatched((record, change) -> unmatched.add(record + "=" + change.after().orderId()));
        assertEquals(List.of("r2=8"), unmatched);
        assertEquals(List.of("7", "9"), batch.joined().stream().map(EnrichedOrderChange::id).toList());
        assertEquals(List.of(), rejected);
    }

    private static ChangeEvent<Order> upsert(int orderId, int customerId, String productCode, long lsn) {
        return new ChangeEvent<>(null, order(orderId, customerId, productCode), Map.of("lsn", lsn, "ts_ms", lsn * 100),
                "c", 1L);
    }

    private static ChangeEvent<Order> delete(int orderId, int customerId, String productCode, long lsn) {
        return new ChangeEvent<>(order(orderId, customerId, productCode), null, Map.of("lsn", lsn, "ts_ms", lsn * 100),
                "d", 1L);
    }

    private static Order order(int orderId, int customerId, String productCode) {
        return new Order(orderId, customerId, new BigDecimal("10.00"), productCode);
    }
}
