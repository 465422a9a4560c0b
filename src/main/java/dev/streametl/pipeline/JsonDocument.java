package dev.streametl.pipeline;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import co.elastic.clients.util.BinaryData;
import co.elastic.clients.util.ContentType;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;

/**
 * A document for an Elasticsearch bulk, given as JSON already made ({@link OrderWrite#json()}): the client's raw JSON
 * (a {@link BinaryData}, as {@code BinaryData.of(bytes, APPLICATION_JSON)} makes) puts these bytes in the bulk request
 * as they are, neither parsed nor written again. Written by Jackson (a dead letter's body, a test reading the operation)
 * it is the same JSON, as text.
 */
final class JsonDocument implements BinaryData, JsonSerializable {

    private final byte[] json;

    JsonDocument(byte[] json) {
        this.json = json;
    }

    @Override
    public String contentType() {
        return ContentType.APPLICATION_JSON;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        out.write(json);
    }

    @Override
    public ByteBuffer asByteBuffer() {
        return ByteBuffer.wrap(json).asReadOnlyBuffer();
    }

    @Override
    public InputStream asInputStream() {
        return new ByteArrayInputStream(json);
    }

    @Override
    public boolean isRepeatable() {
        return true;
    }

    @Override
    public long size() {
        return json.length;
    }

    @Override
    public void serialize(JsonGenerator generator, SerializerProvider serializers) throws IOException {
        generator.writeRawValue(toString());
    }

    @Override
    public void serializeWithType(JsonGenerator generator, SerializerProvider serializers, TypeSerializer type)
            throws IOException {
        serialize(generator, serializers);
    }

    /** The JSON, as text. */
    @Override
    public String toString() {
        return new String(json, StandardCharsets.UTF_8);
    }
}
