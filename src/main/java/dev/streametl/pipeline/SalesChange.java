package dev.streametl.pipeline;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What one change of the {@code orders} table does to the product sales: the order leaves the count of the product it
 * had ({@link #before}, null if it was not counted) and joins the count of its product now ({@link #after}, null once
 * it is deleted). Both the same: the order stays where it is (a change of its price or of its customer).
 * <p>
 * The counts keep nothing per order, so they also need to know where the change comes from ({@link #kind}, and
 * {@link #snapshot} or {@link #position}): that is what tells a change counted already (the capture's replay after a
 * crash, an interrupted snapshot taken again) from a new one ({@link ProductSalesCounts}).
 *
 * @param before   the product the order had, null for a new order
 * @param after    the product the order has now, null for a deleted one
 * @param kind     where the change comes from
 * @param snapshot a snapshot's identity (its transaction and position): its rows share one position in the log
 * @param position a streamed change's place in the log, {@link Position#NONE} for a snapshot's row
 * @param order    the order's id: changes at one position are told apart by it (one WAL record of a {@code COPY} or a
 *                 multi-row insert holds many rows, so their changes share its position)
 */
public record SalesChange(String before, String after, Kind kind, String snapshot, Position position, String order) {

    /** Where a change comes from. */
    public enum Kind {
        /** Streamed from the log: each at a position of its own, increasing in the order they come. */
        STREAMED,
        /** A delete standing for a row removed by a TRUNCATE: every one of them at the truncate's position. */
        TRUNCATED,
        /** A row of a snapshot of the table (the first one, or another one Debezium took): the table as it is. */
        SNAPSHOT,
        /** A row read again by an incremental snapshot: counted already, as it is; it changes nothing. */
        READ_AGAIN,
        /** Not a change of an order (a tombstone, a record that cannot be read): it only moves its partition's offset. */
        NONE
    }

    /**
     * Where a streamed change is in PostgreSQL's log: Debezium's {@code source.sequence}, the position of the last
     * transaction committed before the change's own and the change's position. Changes come in sequences that never
     * decrease (the LSN alone may: the changes of two transactions that overlapped come in commit order), and a change
     * the capture sends again after a crash comes with the same sequence. Several changes may share one: the rows of one
     * WAL record (a {@code COPY}, a multi-row insert).
     */
    public record Position(@JsonProperty("last_commit") long lastCommit, @JsonProperty("lsn") long lsn)
            implements Comparable<Position> {

        /** Before any change: no position. */
        public static final Position NONE = new Position(-1, -1);

        @Override
        public int compareTo(Position other) {
            int byCommit = Long.compare(lastCommit, other.lastCommit);
            return byCommit != 0 ? byCommit : Long.compare(lsn, other.lsn);
        }

        /** Whether this comes after {@code other} in the log. */
        public boolean isAfter(Position other) {
            return compareTo(other) > 0;
        }

        /**
         * The position of a change from its source: {@code sequence} (["last commit LSN", "LSN"], either may be null)
         * where Debezium gives it, otherwise {@code lsn} alone.
         */
        static Position of(Map<String, Object> source) {
            long lsn = source != null && source.get("lsn") instanceof Number n ? n.longValue() : -1;
            List<?> sequence = source == null ? null : sequence(source.get("sequence"));
            if (sequence == null || sequence.size() != 2) {
                return new Position(-1, lsn);
            }
            return new Position(number(sequence.get(0)), sequence.get(1) == null ? lsn : number(sequence.get(1)));
        }

        private static List<?> sequence(Object value) {
            if (value instanceof List<?> list) {
                return list;
            }
            if (value instanceof String text && text.startsWith("[")) {
                return Json.read(text, List.class);
            }
            return null;
        }

        private static long number(Object value) {
            if (value == null) {
                return -1;
            }
            try {
                return Long.parseLong(value.toString());
            } catch (NumberFormatException e) {
                throw new InvalidRecordException("source.sequence holds '" + value + "', not a position in the log");
            }
        }
    }

    /** Nothing to count: a record that only moves its partition's offset. */
    public static final SalesChange NOTHING = new SalesChange(null, null, Kind.NONE, null, Position.NONE, null);

    /**
     * What a change of the {@code orders} table does to the counts, from the rows before and after it (the table's
     * {@code REPLICA IDENTITY FULL} gives an update's and a delete's {@code before} every column): a create or a snapshot's
     * row counts its product; an update moves the order from its product before to its product after; a delete takes its
     * product back. A row read again by an incremental snapshot ({@code source.snapshot = incremental}) changes nothing.
     *
     * @param truncated whether the change is a delete standing for a row of a TRUNCATE ({@link TableTruncation})
     */
    public static SalesChange of(ChangeEvent<Order> change, boolean truncated) {
        Map<String, Object> source = change.source();
        String order = String.valueOf(change.row().orderId());
        return switch (change.op()) {
            case "c" -> streamed(order, null, change.after().productCode(), Position.of(source));
            case "r" -> isReadAgain(change) ? new SalesChange(null, null, Kind.READ_AGAIN, null, Position.NONE, order)
                    : new SalesChange(null, change.after().productCode(), Kind.SNAPSHOT, snapshotOf(source), Position.NONE, order);
            case "u" -> {
                if (change.before() == null) {
                    throw new InvalidRecordException("an update of order " + change.after().orderId()
                            + " without the row before it (is the table's REPLICA IDENTITY FULL?)");
                }
                yield streamed(order, change.before().productCode(), change.after().productCode(), Position.of(source));
            }
            case "d" -> truncated
                    ? new SalesChange(change.before().productCode(), null, Kind.TRUNCATED, null, Position.of(source), order)
                    : streamed(order, change.before().productCode(), null, Position.of(source));
            default -> throw new InvalidRecordException("unknown operation '" + change.op() + "'");
        };
    }

    /**
     * A snapshot's identity: Debezium dates every row of one snapshot with the snapshot transaction's id and the log's
     * position when it began. A snapshot taken again (interrupted by a crash, or asked for) has another transaction.
     */
    private static String snapshotOf(Map<String, Object> source) {
        return source.get("txId") + "@" + source.get("lsn");
    }

    private static boolean isReadAgain(ChangeEvent<Order> change) {
        return change.source() != null && "incremental".equals(String.valueOf(change.source().get("snapshot")));
    }

    /** A streamed change of an order at its position: the order leaves {@code before}'s count and joins {@code after}'s. */
    public static SalesChange streamed(String order, String before, String after, Position position) {
        return new SalesChange(before, after, Kind.STREAMED, null, position, order);
    }

    /** Whether it changes no count by itself. */
    public boolean isNeutral() {
        return before == null ? after == null : before.equals(after);
    }
}
