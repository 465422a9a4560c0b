package dev.streametl.pipeline;

import java.math.BigDecimal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pipeline's rules as plain Java on its domain types: no Camel, no exchange, no server. */
class CoreRulesTest {

    static final HighValueProspect PROSPECTS = new HighValueProspect(new BigDecimal("300"));

    @Test
    void aProspectIsABigOrderFromACustomerWhoIsNotPremium() {
        assertTrue(PROSPECTS.test(order("300.01", "standard")));
        assertTrue(PROSPECTS.test(order("512.00", null)), "no membership is not premium");
        assertFalse(PROSPECTS.test(order("300.00", "standard")), "the price must be above the threshold");
        assertFalse(PROSPECTS.test(order("999.00", "premium")));
    }

    @Test
    void aChangeIsReadWithItsRowItsOperationAndItsPosition() {
        ChangeEvent<Order> update = ChangeEvent.parse(change("u", "{\"order_id\":7,\"customer_id\":3,\"price\":12.50,"
                + "\"product_code\":\"MUG-02\"}", "null", 812), Order.class);
        assertEquals(7, update.row().orderId());
        assertEquals(new BigDecimal("12.50"), update.row().price());
        assertEquals(812, update.position());
        assertFalse(update.isDelete());

        ChangeEvent<Order> delete = ChangeEvent.parse(change("d", "null", "{\"order_id\":7,\"customer_id\":3,"
                + "\"price\":12.50,\"product_code\":\"MUG-02\"}", 813), Order.class);
        assertTrue(delete.isDelete());
        assertEquals(7, delete.row().orderId(), "a delete's row is the one before");
        assertNull(delete.after());
    }

    @Test
    void aChangeThePipelineCannotUseIsTheRecordsFaultSayingWhy() {
        String row = "{\"order_id\":7,\"customer_id\":3,\"price\":12.50,\"product_code\":\"MUG-02\"}";
        assertReason("unknown operation 'x'", change("x", row, "null", 1));
        assertReason("no 'after' row", change("c", "null", "null", 1));
        assertReason("no position in the source", change("c", row, "null", -1));
        assertReason("customer_id", change("c", row.replace("\"customer_id\":3", "\"customer_id\":\"3\""), "null", 1));
        assertReason("empty change record", " ");
    }

    private static void assertReason(String reason, String json) {
        InvalidRecordException refused = assertThrows(InvalidRecordException.class, () -> ChangeEvent.parse(json, Order.class));
        assertTrue(refused.getMessage().contains(reason), reason + " in: " + refused.getMessage());
    }

    private static String change(String op, String after, String before, long lsn) {
        return "{\"before\":%s,\"after\":%s,\"source\":{\"lsn\":%d},\"op\":\"%s\",\"ts_ms\":1}".formatted(before, after, lsn, op);
    }

    private static EnrichedOrder order(String price, String membership) {
        return new EnrichedOrder(1, new BigDecimal(price), "BAG-01", new Customer(3, "Ada Quinn", 37, membership), 1);
    }
}
