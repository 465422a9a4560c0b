package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.streametl.pipeline.SalesChange.Position;

/**
 * The running count of orders per product, kept as counts per partition of the orders change topic, each with where
 * its counting stands ({@link PartitionCounts}): state that grows with partitions times products, never with the
 * orders. A product's sales are the sum of its counts over the partitions.
 * <p>
 * An instance counts the changes of the partitions its consumer group gives it ({@link #apply}). Nothing per order is
 * kept, so a change counted already must be recognised by where it comes from:
 * <ul>
 * <li>a record at or below its partition's offset: a batch read again after a crash or a rebalance;</li>
 * <li>a streamed change before the partition's position in the log, or at it for an order already counted there: the
 * capture sending again, after a crash, what it had sent but not yet saved as sent;</li>
 * <li>a snapshot's rows: a snapshot is the table as it is, so the first row of a new snapshot (the first one, or one
 * taken again after an interrupted one) starts the partition's counts over;</li>
 * <li>a TRUNCATE's deletes, all at the truncate's position: the first one empties the partition's counts.</li>
 * </ul>
 * It learns the other partitions' counts from their owners' state records ({@link #restore}), which never take a
 * partition back in time. Plain Java: typed in, typed out, no Camel, no Kafka client.
 */
public final class ProductSalesCounts {

    /** A sales change at its place in the counted topic. */
    public record Counted(int partition, long offset, SalesChange change) {
    }

    /**
     * What a batch did: the new state of each partition it moved (to store, one record per partition), and the sales of
     * each product it touched, summed over every partition (to publish).
     */
    public record Applied(List<PartitionCounts> partitions, List<ProductSales> sales) {
    }

    private static final class Partition {
        long offset = -1;
        String snapshot;
        Position position = Position.NONE;
        /** The orders whose changes at {@link #position} are counted: the rows of one WAL record share a position. */
        final Set<String> atPosition = new LinkedHashSet<>();
        final Map<String, Long> counts = new HashMap<>();
    }

    private final Map<Integer, Partition> partitions = new TreeMap<>();

    /**
     * Counts a batch of changes, in the order of their offsets within each partition. A change counted already counts
     * nothing, but its products are among those whose sums are returned (to be published again: the crash may have come
     * after the counts were stored and before their sums were published).
     */
    public synchronized Applied apply(List<Counted> changes) {
        Set<String> touched = new LinkedHashSet<>();
        Set<Integer> moved = new LinkedHashSet<>();
        for (Counted counted : changes) {
            Partition partition = partitions.computeIfAbsent(counted.partition(), p -> new Partition());
            SalesChange change = counted.change();
            touch(touched, change.before());
            touch(touched, change.after());
            if (counted.offset() <= partition.offset) {
                continue; // read again
            }
            partition.offset = counted.offset();
            moved.add(counted.partition());
            switch (change.kind()) {
                case STREAMED -> {
                    int order = change.position().compareTo(partition.position);
                    if (order < 0 || order == 0 && partition.atPosition.contains(change.order())) {
                        continue; // sent again by the capture
                    }
                    if (order > 0) {
                        partition.position = change.position();
                        partition.atPosition.clear();
                    }
                    partition.atPosition.add(change.order());
                    move(partition, change);
                }
                case TRUNCATED -> {
                    if (change.position().isAfter(partition.position)) { // the truncate's first delete here
                        touched.addAll(partition.counts.keySet());
                        partition.counts.replaceAll((product, count) -> 0L);
                        partition.position = change.position();
                        partition.atPosition.clear();
                    }
                }
                case SNAPSHOT -> {
                    if (!change.snapshot().equals(partition.snapshot)) { // a new snapshot: the table as it is now
                        touched.addAll(partition.counts.keySet());
                        partition.counts.replaceAll((product, count) -> 0L);
                        partition.snapshot = change.snapshot();
                        partition.position = Position.NONE; // what streams after it comes after it
                        partition.atPosition.clear();
                    }
                    move(partition, change);
                }
                case READ_AGAIN, NONE -> {
                    // counted already, or nothing to count
                }
            }
        }
        List<PartitionCounts> states = new ArrayList<>(moved.size());
        for (int partition : moved) {
            states.add(state(partition));
        }
        return new Applied(states, sales(touched));
    }

    /**
     * Whether a batch of a partition starting at {@code firstOffset} finds a gap after what this instance holds of it:
     * another instance counted the records in between (the partition was its own for a while), and its last state record
     * must be restored before this batch is counted.
     */
    public synchronized boolean misses(int partition, long firstOffset) {
        return firstOffset > offset(partition) + 1;
    }

    /**
     * Takes the stored counts of a partition (a record of the state topic: its owner's, or this instance's own coming
     * back). Counts at or below the offset already held are older than what is here: ignored. Returns the sales of the
     * products whose sums changed.
     */
    public synchronized List<ProductSales> restore(PartitionCounts stored) {
        Partition partition = partitions.computeIfAbsent(stored.partition(), p -> new Partition());
        if (stored.offset() <= partition.offset) {
            return List.of();
        }
        Set<String> touched = new LinkedHashSet<>();
        Map<String, Long> before = new LinkedHashMap<>(partition.counts);
        partition.counts.clear();
        partition.counts.putAll(stored.counts());
        partition.offset = stored.offset();
        partition.snapshot = stored.snapshot();
        partition.position = stored.position();
        partition.atPosition.clear();
        partition.atPosition.addAll(stored.atPosition());
        for (String product : union(before.keySet(), stored.counts().keySet())) {
            if (!before.getOrDefault(product, 0L).equals(stored.counts().getOrDefault(product, 0L))) {
                touched.add(product);
            }
        }
        return sales(touched);
    }

    /** The counts of a partition and where their counting stands. */
    public synchronized PartitionCounts state(int partition) {
        Partition held = partitions.get(partition);
        return held == null ? PartitionCounts.empty(partition)
                : new PartitionCounts(partition, held.offset, held.snapshot, held.position, List.copyOf(held.atPosition),
                        held.counts);
    }

    /** The offset of the last record counted of a partition, -1 if none. */
    public synchronized long offset(int partition) {
        Partition held = partitions.get(partition);
        return held == null ? -1 : held.offset;
    }

    /** The orders of a product, over every partition. */
    public synchronized long sales(String productCode) {
        long sum = 0;
        for (Partition partition : partitions.values()) {
            sum += partition.counts.getOrDefault(productCode, 0L);
        }
        return sum;
    }

    /** Every product's sales, by product code. */
    public synchronized Map<String, Long> sales() {
        Map<String, Long> all = new TreeMap<>();
        for (Partition partition : partitions.values()) {
            partition.counts.forEach((product, count) -> all.merge(product, count, Long::sum));
        }
        return all;
    }

    private static void move(Partition partition, SalesChange change) {
        if (change.before() != null) {
            partition.counts.merge(change.before(), -1L, Long::sum);
        }
        if (change.after() != null) {
            partition.counts.merge(change.after(), 1L, Long::sum);
        }
    }

    private static void touch(Set<String> touched, String product) {
        if (product != null) {
            touched.add(product);
        }
    }

    private List<ProductSales> sales(Set<String> products) {
        List<ProductSales> sales = new ArrayList<>(products.size());
        for (String product : products) {
            sales.add(new ProductSales(product, sales(product)));
        }
        return sales;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new LinkedHashSet<>(a);
        all.addAll(b);
        return all;
    }
}
