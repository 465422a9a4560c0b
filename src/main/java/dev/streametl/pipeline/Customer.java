package dev.streametl.pipeline;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A row of the {@code customers} table. */
public record Customer(
        @JsonProperty("id") int id,
        @JsonProperty("name") String name,
        @JsonProperty("age") Integer age,
        @JsonProperty("membership") String membership) {
}
