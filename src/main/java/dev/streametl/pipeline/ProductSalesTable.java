package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * The running count of orders per product code, kept from the {@code enriched_orders} changes: it remembers each
 * order's product code and the version of its last change, so an order updated to another product moves from one
 * count to the other, a deleted order (tombstone) leaves its count, and a replayed change counts once. A change older
 * than the one already counted for its order (a stale record, {@link KafkaRecords#VERSION}) is ignored, deletions
 * included, so a late stale write can never bring a deleted order back into a count.
 */
public final class ProductSalesTable {

    /** The last change counted for an order: its product code (null once deleted) and its version. */
    private record Counted(String productCode, long version) {
    }

    private final RecordFormat format;
    private final Map<String, Counted> orders = new HashMap<>();
    private final Map<String, Long> ordersOfProduct = new HashMap<>();

    public ProductSalesTable() {
        this(RecordFormat.json());
    }

    public ProductSalesTable(RecordFormat format) {
        this.format = format;
    }

    /**
     * Applies a batch of {@code enriched_orders} records (key = order id, value = enriched order JSON or null) and
     * replaces the body with the new counts of the products the batch touched. A record that cannot be read is set
     * aside for the dead letter endpoint ({@link DeadLetter#rejected}); the others still count.
     */
    public synchronized void apply(Exchange exchange) {
        Set<String> touched = new LinkedHashSet<>();
        for (Message record : KafkaBatch.records(exchange)) {
            DeadLetter.processOrReject(exchange, record, () -> apply(record, touched));
        }
        List<ProductSales> sales = new ArrayList<>(touched.size());
        for (String productCode : touched) {
            sales.add(new ProductSales(productCode, ordersOfProduct.getOrDefault(productCode, 0L)));
        }
        exchange.getMessage().setBody(sales);
    }

    /** Applies one record; returns the order it is about. */
    private String apply(Message record, Set<String> touched) {
        Object value = format.isAvro() ? record.getBody() : record.getBody(String.class);
        long version = KafkaRecords.version(record);
        String orderId;
        String productCode = null;
        if (value == null) {
            orderId = format.isAvro() ? format.readKey(record.getHeader(KafkaConstants.KEY))
                    : record.getHeader(KafkaConstants.KEY, String.class);
            if (orderId == null) {
                throw new InvalidRecordException("a tombstone without a key");
            }
        } else {
            EnrichedOrder order = format.readEnrichedOrder(value);
            orderId = order.id();
            productCode = order.productCode();
        }
        Counted previous = orders.get(orderId);
        if (previous != null && version != EnrichedOrderChange.UNKNOWN_VERSION && version < previous.version()) {
            return orderId; // older than what is counted: a stale or replayed change
        }
        if (previous != null && previous.productCode() != null) {
            ordersOfProduct.merge(previous.productCode(), -1L, Long::sum);
            touched.add(previous.productCode());
        }
        orders.put(orderId, new Counted(productCode, version));
        if (productCode != null) {
            ordersOfProduct.merge(productCode, 1L, Long::sum);
            touched.add(productCode);
        }
        return orderId;
    }
}
