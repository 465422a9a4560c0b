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
                at(0, 0, SalesChange.created("CAP-03")),
                at(0, 1, SalesChange.created("CAP-03")),
                at(0, 2, SalesChange.moved("CAP-03", "TEE-01"))));
        assertEquals(List.of(new ProductSales("CAP-03", 1), new ProductSales("TEE-01", 1)), first.sales());
        assertEquals(List.of(new PartitionCounts(0, 2, Map.of("CAP-03", 1L, "TEE-01", 1L))), first.partitions());

        ProductSalesCounts.Applied deleted = counts.apply(List.of(at(0, 3, SalesChange.deleted("CAP-03"))));
        assertEquals(List.of(new ProductSales("CAP-03", 0)), deleted.sales());
        assertEquals(Map.of("CAP-03", 0L, "TEE-01", 1L), counts.sales());
    }

    @Test
    void aReplayAtOrBelowTheCountedOffsetCountsNothing() {
        counts.apply(List.of(at(1, 10, SalesChange.created("MUG-02")), at(1, 11, SalesChange.created("MUG-02"))));

        // the same records again (a crash before the consumer committed), then one new
        ProductSalesCounts.Applied replay = counts.apply(List.of(at(1, 10, SalesChange.created("MUG-02")),
                at(1, 11, SalesChange.created("MUG-02")), at(1, 12, SalesChange.created("HAT-06"))));

        assertEquals(Map.of("MUG-02", 2L, "HAT-06", 1L), counts.sales());
        assertEquals(List.of(new ProductSales("MUG-02", 2), new ProductSales("HAT-06", 1)), replay.sales(),
                "the replay's product published again, unchanged");
        assertEquals(List.of(new PartitionCounts(1, 12, Map.of("MUG-02", 2L, "HAT-06", 1L))), replay.partitions());
        assertEquals(12, counts.offset(1));
        assertTrue(counts.apply(List.of(at(1, 12, SalesChange.deleted("HAT-06")))).partitions().isEmpty(),
                "nothing moved, nothing to store");
        assertEquals(1, counts.sales("HAT-06"));
    }

    @Test
    void aChangeThatKeepsItsProductTouchesItWithoutMovingTheCount() {
        counts.apply(List.of(at(0, 0, SalesChange.created("PEN-05"))));
        ProductSalesCounts.Applied kept = counts.apply(List.of(at(0, 1, SalesChange.moved("PEN-05", "PEN-05"))));
        assertTrue(SalesChange.moved("PEN-05", "PEN-05").isNeutral());
        assertFalse(SalesChange.created("PEN-05").isNeutral());
        assertEquals(List.of(new ProductSales("PEN-05", 1)), kept.sales());
        assertEquals(1, counts.state(0).offset());
    }

    @Test
    void salesAreTheSumOverPartitionsAndEachPartitionKeepsItsOwnOffset() {
        counts.apply(List.of(at(0, 5, SalesChange.created("CAP-03")), at(2, 7, SalesChange.created("CAP-03")),
                at(1, 0, SalesChange.created("CAP-03")), at(2, 8, SalesChange.created("TEE-01"))));
        ProductSalesCounts.Applied applied = counts.apply(List.of(at(2, 9, SalesChange.moved("CAP-03", "TEE-01")),
                at(0, 5, SalesChange.created("CAP-03")))); // partition 0's offset 5 again: a replay there

        assertEquals(List.of(new ProductSales("CAP-03", 2), new ProductSales("TEE-01", 2)), applied.sales(),
                "partition 0's replay touched CAP-03 again, counted once");
        assertEquals(List.of(new PartitionCounts(2, 9, Map.of("CAP-03", 0L, "TEE-01", 2L))), applied.partitions());
        assertEquals(5, counts.offset(0));
        assertEquals(0, counts.offset(1));
        assertEquals(-1, counts.offset(3));
        assertEquals(PartitionCounts.empty(3), counts.state(3));
    }

    @Test
    void anotherInstancesCountsComeFromItsStateRecordsAndNeverGoBackInTime() {
        counts.apply(List.of(at(0, 3, SalesChange.created("CAP-03")))); // this instance owns partition 0

        // partition 1 is another instance's: its state records, as the state topic brings them
        assertEquals(List.of(new ProductSales("CAP-03", 3), new ProductSales("TEE-01", 1)),
                counts.restore(new PartitionCounts(1, 40, Map.of("CAP-03", 2L, "TEE-01", 1L))));
        assertEquals(List.of(), counts.restore(new PartitionCounts(1, 30, Map.of("CAP-03", 9L))), "older: ignored");
        assertEquals(List.of(new ProductSales("TEE-01", 0)),
                counts.restore(new PartitionCounts(1, 41, Map.of("CAP-03", 2L, "TEE-01", 0L))));
        // this instance's own record coming back changes nothing
        assertEquals(List.of(), counts.restore(counts.state(0)));
        assertEquals(Map.of("CAP-03", 3L, "TEE-01", 0L), counts.sales());

        // partition 1 moves here (a rebalance): its records from the stored offset on count on top of its counts
        counts.apply(List.of(at(1, 41, SalesChange.created("TEE-01")), at(1, 42, SalesChange.deleted("CAP-03"))));
        assertEquals(Map.of("CAP-03", 2L, "TEE-01", 0L), counts.sales());
    }

    @Test
    void aPartitionsStateIsOneSmallJsonRecordReadBackAsItWasWritten() {
        counts.apply(List.of(at(2, 17, SalesChange.created("CAP-03")), at(2, 18, SalesChange.created("TEE-01"))));
        String json = Json.write(counts.state(2));
        assertEquals("{\"partition\":2,\"offset\":18,\"counts\":{\"CAP-03\":1,\"TEE-01\":1}}", json);

        ProductSalesCounts restarted = new ProductSalesCounts();
        restarted.restore(Json.read(json, PartitionCounts.class));
        assertEquals(counts.sales(), restarted.sales());
        assertEquals(18, restarted.offset(2));
    }

    @Test
    void aChangeOfTheOrdersTableSaysWhatItDoesToTheCounts() {
        assertEquals(SalesChange.created("CAP-03"), SalesChange.of(change(null, "CAP-03", "c", null)));
        assertEquals(SalesChange.created("CAP-03"), SalesChange.of(change(null, "CAP-03", "r", "true")), "first snapshot");
        assertTrue(SalesChange.of(change(null, "CAP-03", "r", "incremental")).isNeutral(), "a row read again");
        assertEquals(SalesChange.moved("CAP-03", "TEE-01"), SalesChange.of(change("CAP-03", "TEE-01", "u", null)));
        assertTrue(SalesChange.of(change("CAP-03", "CAP-03", "u", null)).isNeutral(), "a price change");
        assertEquals(SalesChange.deleted("CAP-03"), SalesChange.of(change("CAP-03", null, "d", null)));
        InvalidRecordException noBefore = org.junit.jupiter.api.Assertions.assertThrows(InvalidRecordException.class,
                () -> SalesChange.of(change(null, "TEE-01", "u", null)));
        assertTrue(noBefore.getMessage().contains("REPLICA IDENTITY FULL"), noBefore.getMessage());

        // the changes of one order, counted in their partition, then the same again (a replay): counted once
        List<ProductSalesCounts.Counted> history = List.of(at(0, 0, SalesChange.of(change(null, "CAP-03", "c", null))),
                at(0, 1, SalesChange.of(change("CAP-03", "TEE-01", "u", null))),
                at(0, 2, SalesChange.of(change(null, "TEE-01", "r", "incremental"))));
        counts.apply(history);
        counts.apply(history);
        assertEquals(Map.of("CAP-03", 0L, "TEE-01", 1L), counts.sales());
    }

    private static ChangeEvent<Order> change(String before, String after, String op, String snapshot) {
        Map<String, Object> source = new java.util.HashMap<>(Map.of("lsn", 100L));
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
