package dev.streametl.pipeline;

import java.math.BigDecimal;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** An order joined with its customer: a document of the {@code enriched_orders} index and topic. */
@JsonPropertyOrder({ "order_id", "price", "product_code", "customer_id", "customer_name", "customer_age",
        "customer_membership" })
public record EnrichedOrder(
        @JsonProperty("order_id") int orderId,
        @JsonProperty("price") BigDecimal price,
        @JsonProperty("product_code") String productCode,
        @JsonProperty("customer_id") int customerId,
        @JsonProperty("customer_name") String customerName,
        @JsonProperty("customer_age") Integer customerAge,
        @JsonProperty("customer_membership") String customerMembership) implements EnrichedOrderChange {

    public static EnrichedOrder of(Order order, Customer customer) {
        return new EnrichedOrder(order.orderId(), order.price(), order.productCode(), customer.id(), customer.name(),
                customer.age(), customer.membership());
    }

    @Override
    public String id() {
        return String.valueOf(orderId);
    }
}
