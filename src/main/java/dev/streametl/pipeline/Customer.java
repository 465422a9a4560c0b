package dev.streametl.pipeline;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A row of the {@code customers} table. */
public record Customer(
        @JsonProperty("id") int id,
        @JsonProperty("name") String name,
        @JsonProperty("age") Integer age,
        @JsonProperty("membership") String membership) {

    public Customer {
        // a handful of values shared by every customer of the table: one copy each, not one per customer (heap)
        membership = membership == null ? null : membership.intern();
    }
}
