package dev.streametl.pipeline;

import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one JSON mapper of the pipeline. It is strict on purpose: a record with a missing column or a value of the
 * wrong type ("12" where a number belongs) is rejected, so that it reaches the dead letter topic instead of
 * turning into a wrong document.
 */
public final class Json {

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /**
     * Writes straight to UTF-8 bytes the text {@link #write} makes: a character beyond the BMP (an emoji) as its four
     * UTF-8 bytes, as in the text, not as the two escaped UTF-16 surrogates Jackson's byte output writes by default.
     */
    private static final ObjectWriter UTF8 = MAPPER.writer().with(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8);

    private Json() {
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The JSON of a value as UTF-8 bytes: the text of {@link #write}, encoded, but written straight to bytes. (Only a
     * lone surrogate, which is no text, differs: escaped here, where encoding the text would make it a '?'.)
     */
    public static byte[] writeBytes(Object value) {
        try {
            return UTF8.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("Cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The field a mapping error is about, e.g. " (at after.customer_id)". */
    private static String where(JsonProcessingException e) {
        if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            return mapping.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining(".", " (at ", ")"));
        }
        return "";
    }

    public static <T> T read(String json, Class<T> type) {
        return read(json, MAPPER.constructType(type));
    }

    /** Reads a value of the given type; the JSON literal {@code null} is no value of any type, and is rejected too. */
    public static <T> T read(String json, JavaType type) {
        try {
            T value = MAPPER.readValue(json, type);
            if (value == null) {
                throw new InvalidRecordException("the JSON literal null where " + type.getRawClass().getSimpleName()
                        + " belongs");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw new InvalidRecordException(e.getOriginalMessage() + where(e), e);
        }
    }
}
