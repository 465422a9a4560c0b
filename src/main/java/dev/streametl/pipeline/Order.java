package dev.streametl.pipeline;

import java.math.BigDecimal;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A row of the {@code orders} table. */
public record Order(
        @JsonProperty("order_id") int orderId,
        @JsonProperty("customer_id") int customerId,
        @JsonProperty("price") BigDecimal price,
        @JsonProperty("product_code") String productCode) {

    public Order {
        if (price == null) {
            throw new InvalidRecordException("order " + orderId + " has no price");
        }
        if (productCode == null) {
            throw new InvalidRecordException("order " + orderId + " has no product_code");
        }
    }

    /** The order id: the key of its changes downstream. */
    public String id() {
        return String.valueOf(orderId);
    }

    /** What deleting this order, by the change at {@code version}, means downstream. */
    public OrderDeletion deletion(long version) {
        return new OrderDeletion(orderId, version);
    }
}
