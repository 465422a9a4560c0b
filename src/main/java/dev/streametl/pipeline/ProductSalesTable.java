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
 * order's product code, so an order updated to another product moves from one count to the other, a deleted order
 * (tombstone) leaves its count, and a replayed change counts once.
 */
public final class ProductSalesTable {

    private final Map<String, String> productOfOrder = new HashMap<>();
    private final Map<String, Long> ordersOfProduct = new HashMap<>();

    /**
     * Applies a batch of {@code enriched_orders} records (key = order id, value = enriched order JSON or null) and
     * replaces the body with the new counts of the products the batch touched.
     */
    public synchronized void apply(Exchange exchange) {
        Set<String> touched = new LinkedHashSet<>();
        for (Message record : KafkaBatch.records(exchange)) {
            String orderId = record.getHeader(KafkaConstants.KEY, String.class);
            String json = record.getBody(String.class);
            if (json == null) {
                remove(orderId, touched);
            } else {
                EnrichedOrder order = DeadLetter.readOrReject(exchange, record, json, EnrichedOrder.class);
                if (order == null) {
                    continue; // dead-lettered: the others of the batch still count
                }
                remove(order.id(), touched);
                productOfOrder.put(order.id(), order.productCode());
                ordersOfProduct.merge(order.productCode(), 1L, Long::sum);
                touched.add(order.productCode());
            }
        }
        List<ProductSales> sales = new ArrayList<>(touched.size());
        for (String productCode : touched) {
            sales.add(new ProductSales(productCode, ordersOfProduct.getOrDefault(productCode, 0L)));
        }
        exchange.getMessage().setBody(sales);
    }

    private void remove(String orderId, Set<String> touched) {
        String previous = orderId == null ? null : productOfOrder.remove(orderId);
        if (previous != null) {
            ordersOfProduct.merge(previous, -1L, Long::sum);
            touched.add(previous);
        }
    }
}
