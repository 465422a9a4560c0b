package dev.streametl.pipeline;

import java.nio.charset.StandardCharsets;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;

/**
 * A record Kafka refuses for good: sending it again can only fail again. Any other failure of a send (a broker away, a
 * timeout, a leader moving) is Kafka's, and is retried.
 */
public final class KafkaRefusal {

    /**
     * What Kafka answers about the record itself: too large, a topic the pipeline may not write or that cannot exist,
     * a record the broker finds invalid (a compacted topic and no key), a value the serializer cannot take.
     */
    @SuppressWarnings("unchecked")
    public static final Class<? extends Throwable>[] PERMANENT = new Class[] { RecordTooLargeException.class,
        TopicAuthorizationException.class, InvalidTopicException.class,
        org.apache.kafka.common.InvalidRecordException.class, SerializationException.class };

    /** How much of a refused record's value its dead letter keeps: the record was refused for its size, maybe. */
    public static final int KEPT_CHARS = 64 * 1024;
    /** Header of a dead letter whose value was cut: the size of the whole value, in characters. */
    public static final String ORIGINAL_SIZE = "etl.original.size";

    private KafkaRefusal() {
    }

    /**
     * One line on why a Kafka server could not serve the pipeline, naming it and the cause: credentials refused (a wrong
     * API key or secret), a certificate not trusted, an operation its ACLs do not allow, or no answer.
     */
    public static String describe(String server, Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof SslAuthenticationException) {
                return server + ": the TLS handshake failed, its certificate is not trusted or does not match"
                       + " (etl.kafka.truststore): " + cause.getMessage();
            }
            if (cause instanceof AuthenticationException) {
                return server + " refused the pipeline's credentials (etl.kafka.api-key / api-secret): "
                       + cause.getMessage();
            }
            if (cause instanceof AuthorizationException) {
                return server + " does not allow the pipeline's account this (ACLs): " + cause.getMessage();
            }
        }
        return "Cannot reach " + server + ": " + failure;
    }

    /**
     * Makes the refused record (key, value as far as it fits) a dead letter with the reason ({@link DeadLetter#ERROR}),
     * the topic it was for, and the route.
     */
    public static void deadLetter(Exchange exchange) {
        DeadLetter.describe(exchange);
        Message message = exchange.getMessage();
        Object value = message.getBody();
        if (value instanceof byte[] bytes && bytes.length > 0 && bytes[0] == ConfluentAvro.MAGIC_BYTE) {
            // Avro is not text: its first bytes as they are (the schema id with them)
            if (bytes.length > KEPT_CHARS) {
                message.setHeader(ORIGINAL_SIZE, String.valueOf(bytes.length));
                message.setBody(java.util.Arrays.copyOf(bytes, KEPT_CHARS));
            }
            return;
        }
        String text = value == null ? null
                : value instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : value.toString();
        if (text != null && text.length() > KEPT_CHARS) {
            message.setHeader(ORIGINAL_SIZE, String.valueOf(text.length()));
            text = text.substring(0, KEPT_CHARS);
        }
        message.setBody(text);
    }
}
