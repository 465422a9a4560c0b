package dev.streametl.pipeline;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** How many current orders there are of one product: a document of the {@code product_sales} index and topic. */
@JsonPropertyOrder({ "product_code", "order_count" })
public record ProductSales(
        @JsonProperty("product_code") String productCode,
        @JsonProperty("order_count") long orderCount) {
}
