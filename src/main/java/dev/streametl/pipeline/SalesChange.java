package dev.streametl.pipeline;

/**
 * What one order change does to the product sales: the order leaves the count of the product it was counted under
 * ({@link #before}, null if it was not counted) and joins the count of its product now ({@link #after}, null once it is
 * deleted). Both the same: the order stays where it is (a change of its price or of its customer, a replay).
 * <p>
 * The counts keep no order: the change itself says where the order was. So whoever makes a sales change must know the
 * product the order was counted under, not only the row before the change in PostgreSQL (see
 * {@code docs/product-sales-state.md}: a replayed or re-snapshotted change must come as "stays where it is").
 */
public record SalesChange(String before, String after) {

    /** A new order of a product. */
    public static SalesChange created(String productCode) {
        return new SalesChange(null, productCode);
    }

    /** An order of a product deleted. */
    public static SalesChange deleted(String productCode) {
        return new SalesChange(productCode, null);
    }

    /** An order moved from one product to another (or kept, when both are the same). */
    public static SalesChange moved(String from, String to) {
        return new SalesChange(from, to);
    }

    /** Whether it changes no count. */
    public boolean isNeutral() {
        return before == null ? after == null : before.equals(after);
    }
}
