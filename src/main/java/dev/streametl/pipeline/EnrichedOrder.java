package dev.streametl.pipeline;

import java.math.BigDecimal;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * An order joined with its customer: a document of the {@code enriched_orders} index and topic. The customer's columns
 * are its fields, each named {@code customer_<column>}: a column added to {@link Customer} reaches the documents with no
 * change here. Its {@link #version()} (the position of the change in the source) travels beside the document, not in it.
 */
@JsonPropertyOrder({ "order_id", "price", "product_code" })
public record EnrichedOrder(
        @JsonProperty("order_id") int orderId,
        @JsonProperty("price") BigDecimal price,
        @JsonProperty("product_code") String productCode,
        @JsonUnwrapped(prefix = "customer_") Customer customer,
        @JsonIgnore long version) implements EnrichedOrderChange {

    public EnrichedOrder {
        if (price == null) {
            throw new InvalidRecordException("enriched order " + orderId + " has no price");
        }
        if (productCode == null) {
            throw new InvalidRecordException("enriched order " + orderId + " has no product_code");
        }
    }

    /** An enriched order read from JSON (a record of the topic, a document of the index): its version is not in it. */
    @JsonCreator
    static EnrichedOrder read(@JsonProperty("order_id") int orderId, @JsonProperty("price") BigDecimal price,
            @JsonProperty("product_code") String productCode, @JsonUnwrapped(prefix = "customer_") Customer customer) {
        return new EnrichedOrder(orderId, price, productCode, customer, UNKNOWN_VERSION);
    }

    /** The order of a change at {@code version}, joined with its customer. */
    public static EnrichedOrder of(Order order, Customer customer, long version) {
        return new EnrichedOrder(order.orderId(), order.price(), order.productCode(), customer, version);
    }

    /** The same order at another version, with the fields of this customer. */
    public EnrichedOrder withCustomer(Customer customer, long version) {
        return new EnrichedOrder(orderId, price, productCode, customer, version);
    }

    @Override
    public String id() {
        return String.valueOf(orderId);
    }
}
