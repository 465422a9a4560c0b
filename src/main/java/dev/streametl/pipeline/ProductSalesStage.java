package dev.streametl.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The product sales stage as Camel carries it: the order changes of a batch counted ({@link ProductSalesCounts}), the
 * counts of each partition they moved stored on the state topic, and, from the state topic, the sums published.
 * <ul>
 * <li>{@link #count}: a batch of the orders change topic (consumer group {@code etl-product-sales}: the partitions shared
 * among the instances) becomes the state records of the partitions it moved; the route sends them, then commits.</li>
 * <li>{@link #restore}: a batch of the state topic (read from the beginning by every instance: one record per
 * partition once compacted) brings every partition's counts; it becomes the sums of the products they changed, to
 * publish, with the state record's offset as their version.</li>
 * </ul>
 * Two sets of counts are kept: those this instance counts (and restores, for the partitions it may be given), and
 * those it publishes, made from the state topic alone. So every instance publishes, for a given state offset, the same
 * sums, and Elasticsearch (external versions) keeps the newest.
 */
public final class ProductSalesStage {

    /** Exchange property of a batch of sums to publish: the offset of the last state record they include. */
    public static final String VERSION = "etlProductSalesVersion";

    private static final Logger LOG = LoggerFactory.getLogger(ProductSalesStage.class);

    private final RecordFormat format;
    private final String stateTopic;
    private final Supplier<Properties> kafkaClient;
    private final Duration timeout;
    private final ProductSalesCounts counting = new ProductSalesCounts();
    private final ProductSalesCounts published = new ProductSalesCounts();
    /** The offset after the last state record restored: how far this instance has read the state topic. */
    private long stateRead;

    /**
     * @param format      how the change records are written
     * @param stateTopic  the topic of the counts per partition
     * @param kafkaClient the brokers and security settings of the pipeline's Kafka clients (to read the state topic's end);
     *                    null when the state is not on Kafka (a test's endpoints): nothing to wait for
     * @param timeout     how long to wait for the state topic to be read to its end before the batch is tried again
     */
    public ProductSalesStage(RecordFormat format, String stateTopic, Supplier<Properties> kafkaClient,
                             Duration timeout) {
        this.format = format;
        this.stateTopic = stateTopic;
        this.kafkaClient = kafkaClient;
        this.timeout = timeout;
    }

    /**
     * Counts a batch of order changes; the body becomes the state records (key: partition, value: its counts as JSON) of
     * the partitions it moved. A record that is not an order change counts nothing ({@link #read}), but moves its
     * partition's offset like a tombstone. When the batch starts past what this instance holds of a
     * partition (another instance counted the records in between), the state topic is first read to its end.
     */
    public void count(Exchange exchange) throws Exception {
        List<ProductSalesCounts.Counted> changes = new ArrayList<>();
        Map<Integer, Long> firstOffsets = new LinkedHashMap<>();
        Map<Integer, Long> lastOffsets = new HashMap<>();
        for (Message record : KafkaBatch.records(exchange)) {
            Integer partition = record.getHeader(KafkaConstants.PARTITION, Integer.class);
            Long offset = record.getHeader(KafkaConstants.OFFSET, Long.class);
            int p = partition == null ? 0 : partition;
            // a record without Kafka's headers (direct: in tests) comes next in its partition
            long at = offset != null ? offset : lastOffsets.getOrDefault(p, counting.offset(p)) + 1;
            firstOffsets.putIfAbsent(p, at);
            lastOffsets.put(p, at);
            ChangeEvent<Order> event = read(record);
            SalesChange change = event == null ? SalesChange.NOTHING
                    : DeadLetter.processOrReject(exchange, record, () -> SalesChange.of(event,
                            record.getHeader(TableTruncation.TRUNCATED) != null)).orElse(SalesChange.NOTHING);
            changes.add(new ProductSalesCounts.Counted(p, at, change));
        }
        if (firstOffsets.entrySet().stream().anyMatch(first -> counting.misses(first.getKey(), first.getValue()))) {
            awaitStateRead();
        }
        List<Message> states = new ArrayList<>();
        for (PartitionCounts state : counting.apply(changes).partitions()) {
            Message record = new DefaultMessage(exchange);
            record.setHeader(KafkaConstants.KEY, String.valueOf(state.partition()));
            record.setBody(Json.write(state));
            states.add(record);
        }
        exchange.getMessage().setBody(states);
    }

    /**
     * The order change of a record; null for a tombstone, and for a record that is not an order change: the order
     * enrichment, the topic's other reader, sends that one to the dead letter endpoint with its reason (once is enough).
     * A change read but not countable (an update without its row before) is this stage's own dead letter.
     */
    private ChangeEvent<Order> read(Message record) {
        if (record.getBody() == null) {
            return null;
        }
        try {
            return RecordFault.guard(() -> format.readChange(record, Order.class));
        } catch (InvalidRecordException e) {
            LOG.debug("Not an order change, not counted: {}", e.getMessage());
            return null;
        }
    }

    /**
     * Restores a batch of state records; the body becomes the sums of the products they changed, published with the
     * offset of the batch's last state record as their version (property {@value #VERSION}).
     */
    public void restore(Exchange exchange) {
        Map<String, ProductSales> sales = new LinkedHashMap<>();
        long last = -1;
        for (Message record : KafkaBatch.records(exchange)) {
            Long offset = record.getHeader(KafkaConstants.OFFSET, Long.class);
            last = offset == null ? last + 1 : offset;
            if (record.getBody() != null) {
                DeadLetter.processOrReject(exchange, record, () -> Json.read(record.getBody(String.class), PartitionCounts.class))
                        .ifPresent(stored -> {
                            counting.restore(stored);
                            published.restore(stored).forEach(sum -> sales.put(sum.productCode(), sum));
                        });
            }
        }
        synchronized (this) {
            stateRead = Math.max(stateRead, last + 1);
            notifyAll();
        }
        exchange.setProperty(VERSION, last);
        exchange.getMessage().setBody(new ArrayList<>(sales.values()));
    }

    /** Every product's sales as this instance publishes them. */
    public Map<String, Long> sales() {
        return published.sales();
    }

    /**
     * Waits until the state topic has been read up to where it ends now: the last counts the previous owner of a
     * partition stored are then here. A failure to ask Kafka, or a wait longer than the timeout, fails the batch, which
     * is tried again like any other.
     */
    private void awaitStateRead() throws Exception {
        if (kafkaClient == null) {
            return;
        }
        long end = KafkaTopics.lastOffsets(kafkaClient.get(), stateTopic).getOrDefault(0, -1L) + 1;
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (stateRead < end) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("the product sales state topic " + stateTopic + " was read up to "
                            + stateRead + " of " + end + " within " + timeout.toSeconds() + " s");
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        LOG.debug("Product sales state read to its end ({}) before counting a partition last counted elsewhere", end);
    }
}
