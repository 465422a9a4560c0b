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

    /**
     * What a change of the {@code orders} table does to the counts, from the rows before and after it (the table's
     * {@code REPLICA IDENTITY FULL} gives an update's and a delete's {@code before} every column): a create or a row of
     * the first snapshot counts its product; an update moves the order from its product before to its product after;
     * a delete (a TRUNCATE's deletes included) takes its product back. A row read again by an incremental snapshot
     * ({@code source.snapshot = incremental}) is counted already, as it is: it changes nothing.
     */
    public static SalesChange of(ChangeEvent<Order> change) {
        return switch (change.op()) {
            case "c" -> created(change.after().productCode());
            case "r" -> isReadAgain(change) ? moved(change.after().productCode(), change.after().productCode())
                    : created(change.after().productCode());
            case "u" -> {
                if (change.before() == null) {
                    throw new InvalidRecordException("an update of order " + change.after().orderId()
                            + " without the row before it (is the table's REPLICA IDENTITY FULL?)");
                }
                yield moved(change.before().productCode(), change.after().productCode());
            }
            case "d" -> deleted(change.before().productCode());
            default -> throw new InvalidRecordException("unknown operation '" + change.op() + "'");
        };
    }

    private static boolean isReadAgain(ChangeEvent<Order> change) {
        return change.source() != null && "incremental".equals(String.valueOf(change.source().get("snapshot")));
    }

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
