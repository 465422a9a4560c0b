package dev.streametl.pipeline;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Product sales as counts per partition with their offsets, in plain Java: typed in, typed out, no Camel. */
class ProductSalesCountsTest {

    final ProductSalesCounts counts = new ProductSalesCounts();

    @Test
    void aNewOrderCountsAMoveTakesFromOneProductAndGivesToTheOtherADeleteTakesBack() {
        ProductSalesCounts.Applied first = counts.apply(List.of(
                at(0, 0, created("CAP-03")),
                at(0, 1, created("CAP-03")),
                at(0, 2, moved("CAP-03", "TEE-01"))));
        assertEquals(List.of(new ProductSales("CAP-03", 1), new ProductSales("TEE-01", 1)), first.sales());
        assertStates(List.of(Map.entry(0, Map.of("CAP-03", 1L, "TEE-01", 1L))), 2, first.partitions());

        ProductSalesCounts.Applied deleted = counts.apply(List.of(at(0, 3, deleted("CAP-03"))));
        assertEquals(List.of(new ProductSales("CAP-03", 0)), deleted.sales());
        assertEquals(Map.of("CAP-03", 0L, "TEE-01", 1L), counts.sales());
    }

    @Test
    void aReplayAtOrBelowTheCountedOffsetCountsNothing() {
        counts.apply(List.of(at(1, 10, created("MUG-02")), at(1, 11, created("MUG-02"))));

        // the same records again (a crash before the consumer committed), then one new
        ProductSalesCounts.Applied replay = counts.apply(List.of(at(1, 10, created("MUG-02")),
                at(1, 11, created("MUG-02")), at(1, 12, created("HAT-06"))));

        assertEquals(Map.of("MUG-02", 2L, "HAT-06", 1L), counts.sales());
        assertEquals(List.of(new ProductSales("MUG-02", 2), new ProductSales("HAT-06", 1)), replay.sales(),
                "the replay's product published again, unchanged");
        assertStates(List.of(Map.entry(1, Map.of("MUG-02", 2L, "HAT-06", 1L))), 12, replay.partitions());
        assertEquals(12, counts.offset(1));
        assertTrue(counts.apply(List.of(at(1, 12, deleted("HAT-06")))).partitions().isEmpty(),
                "nothing moved, nothing to store");
        assertEquals(1, counts.sales("HAT-06"));
    }

    @Test
    void aChangeThatKeepsItsProductTouchesItWithoutMovingTheCount() {
        counts.apply(List.of(at(0, 0, created("PEN-05"))));
        ProductSalesCounts.Applied kept = counts.apply(List.of(at(0, 1, moved("PEN-05", "PEN-05"))));
        assertTrue(moved("PEN-05", "PEN-05").isNeutral());
        assertFalse(created("PEN-05").isNeutral());
        assertEquals(List.of(new ProductSales("PEN-05", 1)), kept.sales());
        assertEquals(1, counts.state(0).offset());
    }

    @Test
    void salesAreTheSumOverPartitionsAndEachPartitionKeepsItsOwnOffset() {
        counts.apply(List.of(at(0, 5, created("CAP-03")), at(2, 7, created("CAP-03")),
                at(1, 0, created("CAP-03")), at(2, 8, created("TEE-01"))));
        ProductSalesCounts.Applied applied = counts.apply(List.of(at(2, 9, moved("CAP-03", "TEE-01")),
                at(0, 5, created("CAP-03")))); // partition 0's offset 5 again: a replay there

        assertEquals(List.of(new ProductSales("CAP-03", 2), new ProductSales("TEE-01", 2)), applied.sales(),
                "partition 0's replay touched CAP-03 again, counted once");
        assertStates(List.of(Map.entry(2, Map.of("CAP-03", 0L, "TEE-01", 2L))), 9, applied.partitions());
        assertEquals(5, counts.offset(0));
        assertEquals(0, counts.offset(1));
        assertEquals(-1, counts.offset(3));
        assertEquals(PartitionCounts.empty(3), counts.state(3));
    }

    @Test
    void anotherInstancesCountsComeFromItsStateRecordsAndNeverGoBackInTime() {
        counts.apply(List.of(at(0, 3, created("CAP-03")))); // this instance owns partition 0

        // partition 1 is another instance's: its state records, as the state topic brings them
        assertEquals(List.of(new ProductSales("CAP-03", 3), new ProductSales("TEE-01", 1)),
                counts.restore(new PartitionCounts(1, 40, null, position(0), List.of(), Map.of("CAP-03", 2L, "TEE-01", 1L))));
        assertEquals(List.of(), counts.restore(new PartitionCounts(1, 30, null, position(0), List.of(), Map.of("CAP-03", 9L))), "older: ignored");
        assertEquals(List.of(new ProductSales("TEE-01", 0)),
                counts.restore(new PartitionCounts(1, 41, null, position(0), List.of(), Map.of("CAP-03", 2L, "TEE-01", 0L))));
        // this instance's own record coming back changes nothing
        assertEquals(List.of(), counts.restore(counts.state(0)));
        assertEquals(Map.of("CAP-03", 3L, "TEE-01", 0L), counts.sales());

        // partition 1 moves here (a rebalance): its records from the stored offset on count on top of its counts
        counts.apply(List.of(at(1, 41, created("TEE-01")), at(1, 42, deleted("CAP-03"))));
        assertEquals(Map.of("CAP-03", 2L, "TEE-01", 0L), counts.sales());
    }

    @Test
    void aPartitionsStateIsOneSmallJsonRecordReadBackAsItWasWritten() {
        counts.apply(List.of(at(2, 17, created("CAP-03")), at(2, 18, created("TEE-01"))));
        String json = Json.write(counts.state(2));
        assertEquals("{\"partition\":2,\"offset\":18,\"snapshot\":null,\"position\":{\"last_commit\":-1,\"lsn\":2},\"at_position\":[\"o2\"],"
                + "\"counts\":{\"CAP-03\":1,\"TEE-01\":1}}", json);

        ProductSalesCounts restarted = new ProductSalesCounts();
        restarted.restore(Json.read(json, PartitionCounts.class));
        assertEquals(counts.sales(), restarted.sales());
        assertEquals(18, restarted.offset(2));
    }

    @Test
    void theRowsOfOneWalRecordShareAPositionAndEachCountsOnceEvenSentAgain() {
        // a COPY: one WAL record, many rows, one position; then the capture sends the same changes again
        SalesChange.Position copy = position(500);
        List<ProductSalesCounts.Counted> rows = List.of(at(0, 0, SalesChange.streamed("1", null, "CAP-03", copy)),
                at(0, 1, SalesChange.streamed("2", null, "CAP-03", copy)),
                at(0, 2, SalesChange.streamed("3", null, "TEE-01", copy)));
        counts.apply(rows);
        counts.apply(List.of(at(0, 3, rows.get(1).change()), at(0, 4, rows.get(2).change()),
                at(0, 5, SalesChange.streamed("4", null, "TEE-01", position(501)))));
        assertEquals(Map.of("CAP-03", 2L, "TEE-01", 2L), counts.sales());
        assertEquals(List.of("4"), counts.state(0).atPosition(), "only the orders at the last position are kept");

        // restored elsewhere, the replay of order 4 is still recognised
        ProductSalesCounts other = new ProductSalesCounts();
        other.restore(counts.state(0));
        other.apply(List.of(at(0, 6, SalesChange.streamed("4", null, "TEE-01", position(501)))));
        assertEquals(counts.sales(), other.sales());
    }

    @Test
    void aChangeOfTheOrdersTableSaysWhatItDoesToTheCounts() {
        assertSales(null, "CAP-03", SalesChange.Kind.STREAMED, of(change(null, "CAP-03", "c", null)));
        assertSales(null, "CAP-03", SalesChange.Kind.SNAPSHOT, of(change(null, "CAP-03", "r", "true")));
        assertEquals("9@" + (101 + lsn), of(change(null, "CAP-03", "r", "true")).snapshot(), "the snapshot's transaction and position");
        assertSales(null, null, SalesChange.Kind.READ_AGAIN, of(change(null, "CAP-03", "r", "incremental")));
        assertSales("CAP-03", "TEE-01", SalesChange.Kind.STREAMED, of(change("CAP-03", "TEE-01", "u", null)));
        assertTrue(of(change("CAP-03", "CAP-03", "u", null)).isNeutral(), "a price change");
        assertSales("CAP-03", null, SalesChange.Kind.STREAMED, of(change("CAP-03", null, "d", null)));
        assertSales("CAP-03", null, SalesChange.Kind.TRUNCATED, SalesChange.of(change("CAP-03", null, "d", null), true));
        InvalidRecordException noBefore = org.junit.jupiter.api.Assertions.assertThrows(InvalidRecordException.class,
                () -> of(change(null, "TEE-01", "u", null)));
        assertTrue(noBefore.getMessage().contains("REPLICA IDENTITY FULL"), noBefore.getMessage());

        // Debezium's sequence, [last commit, LSN], orders the changes as they come; the LSN alone does not
        Map<String, Object> source = new java.util.HashMap<>(Map.of("lsn", 120L, "sequence", "[\"300\",\"120\"]"));
        ChangeEvent<Order> late = new ChangeEvent<>(null, order("CAP-03"), source, "c", 0L);
        assertEquals(new SalesChange.Position(300, 120), of(late).position());
        assertTrue(new SalesChange.Position(300, 120).isAfter(new SalesChange.Position(250, 290)));
    }

    @Test
    void aChangeTheCaptureSendsAgainIsCountedOnceEvenAtANewOffset() {
        List<ProductSalesCounts.Counted> history = List.of(at(0, 0, of(change(null, "CAP-03", "c", null))),
                at(0, 1, of(change("CAP-03", "TEE-01", "u", null))),
                at(0, 2, of(change(null, "TEE-01", "r", "incremental"))));
        counts.apply(history);
        // the capture crashed before saving its position: the same changes again, at new offsets
        counts.apply(List.of(at(0, 3, history.get(0).change()), at(0, 4, history.get(1).change()),
                at(0, 5, of(change(null, "HAT-06", "c", null)))));
        assertEquals(Map.of("CAP-03", 0L, "TEE-01", 1L, "HAT-06", 1L), counts.sales());
        assertEquals(5, counts.offset(0));
    }

    @Test
    void aSnapshotTakenAgainStartsItsPartitionOverAndATruncateEmptiesIt() {
        SalesChange first = snapshotRow("CAP-03", "7@500");
        counts.apply(List.of(at(0, 0, first), at(0, 1, first), at(1, 0, snapshotRow("TEE-01", "7@500"))));
        // interrupted, then taken again from the start, in another transaction
        ProductSalesCounts.Applied again = counts.apply(List.of(at(0, 2, snapshotRow("CAP-03", "8@500")),
                at(0, 3, snapshotRow("CAP-03", "8@500")), at(0, 4, snapshotRow("MUG-02", "8@500")),
                at(1, 1, snapshotRow("TEE-01", "8@500"))));
        assertEquals(Map.of("CAP-03", 2L, "TEE-01", 1L, "MUG-02", 1L), counts.sales());
        assertEquals("8@500", again.partitions().get(0).snapshot());

        counts.apply(List.of(at(0, 5, moved("CAP-03", "TEE-01"))));
        SalesChange.Position truncate = position(++lsn);
        ProductSalesCounts.Applied truncated = counts.apply(List.of(
                at(0, 6, new SalesChange("CAP-03", null, SalesChange.Kind.TRUNCATED, null, truncate, "1")),
                at(0, 7, new SalesChange("MUG-02", null, SalesChange.Kind.TRUNCATED, null, truncate, "2")),
                at(1, 2, new SalesChange("TEE-01", null, SalesChange.Kind.TRUNCATED, null, truncate, "3"))));
        assertEquals(Map.of("CAP-03", 0L, "TEE-01", 0L, "MUG-02", 0L), counts.sales());
        assertEquals(3, truncated.sales().size(), "every product of the emptied partitions published at 0");
        counts.apply(List.of(at(0, 8, created("CAP-03"))));
        assertEquals(1, counts.sales("CAP-03"));
    }

    @Test
    void aBatchPastWhatThisInstanceHoldsOfAPartitionMissesTheRecordsInBetween() {
        assertTrue(counts.misses(0, 5), "nothing held, and the group's offset is 5: counted elsewhere");
        assertFalse(counts.misses(0, 0));
        counts.restore(new PartitionCounts(0, 4, null, position(4), List.of(), Map.of("CAP-03", 3L)));
        assertFalse(counts.misses(0, 5));
        assertFalse(counts.misses(0, 3), "a batch read again");
    }

    /** The partitions a batch moved: each with its counts, all at the batch's last offset. */
    private static void assertStates(List<Map.Entry<Integer, Map<String, Long>>> expected, long offset,
                                     List<PartitionCounts> states) {
        assertEquals(expected.size(), states.size(), states.toString());
        for (int i = 0; i < states.size(); i++) {
            assertEquals(expected.get(i).getKey(), states.get(i).partition());
            assertEquals(offset, states.get(i).offset());
            assertEquals(expected.get(i).getValue(), states.get(i).counts());
        }
    }

    private static SalesChange snapshotRow(String productCode, String snapshot) {
        return new SalesChange(null, productCode, SalesChange.Kind.SNAPSHOT, snapshot, SalesChange.Position.NONE, "o");
    }

    private static void assertSales(String before, String after, SalesChange.Kind kind, SalesChange change) {
        assertEquals(before, change.before());
        assertEquals(after, change.after());
        assertEquals(kind, change.kind());
    }

    private long lsn;

    /** A new order of a product, streamed at the next position. */
    private SalesChange created(String productCode) {
        return SalesChange.streamed("o" + (lsn + 1), null, productCode, position(++lsn));
    }

    private SalesChange deleted(String productCode) {
        return SalesChange.streamed("o" + (lsn + 1), productCode, null, position(++lsn));
    }

    private SalesChange moved(String from, String to) {
        return SalesChange.streamed("o" + (lsn + 1), from, to, position(++lsn));
    }

    private static SalesChange.Position position(long lsn) {
        return new SalesChange.Position(-1, lsn);
    }

    private SalesChange of(ChangeEvent<Order> change) {
        return SalesChange.of(change, false);
    }

    private ChangeEvent<Order> change(String before, String after, String op, String snapshot) {
        Map<String, Object> source = new java.util.HashMap<>(Map.of("lsn", 100L + ++lsn, "txId", 9L));
        if (snapshot != null) {
            source.put("snapshot", snapshot);
        }
        return new ChangeEvent<>(before == null ? null : order(before), after == null ? null : order(after), source, op, 0L);
    }

    private static Order order(String productCode) {
        return new Order(7, 3, java.math.BigDecimal.TEN, productCode);
    }

    private static ProductSalesCounts.Counted at(int partition, long offset, SalesChange change) {
        return new ProductSalesCounts.Counted(partition, offset, change);
    }
}
