package dev.streametl.pipeline;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * Says why a record goes to the dead letter topic and where it came from, in headers of the original record:
 * {@value #ERROR}, {@value #SOURCE_TOPIC}, {@value #SOURCE_PARTITION}, {@value #SOURCE_OFFSET}, {@value #ROUTE}.
 */
public final class DeadLetter {

    public static final String ERROR = "etl.error";
    public static final String SOURCE_TOPIC = "etl.source.topic";
    public static final String SOURCE_PARTITION = "etl.source.partition";
    public static final String SOURCE_OFFSET = "etl.source.offset";
    public static final String ROUTE = "etl.route";

    private DeadLetter() {
    }

    public static void describe(Exchange exchange) {
        Message message = exchange.getMessage();
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        message.setHeader(ERROR, cause == null ? "unknown error" : reason(cause));
        copy(message, KafkaConstants.TOPIC, SOURCE_TOPIC);
        copy(message, KafkaConstants.PARTITION, SOURCE_PARTITION);
        copy(message, KafkaConstants.OFFSET, SOURCE_OFFSET);
        message.setHeader(ROUTE, exchange.getProperty(Exchange.FAILURE_ROUTE_ID, String.class));
    }

    static String reason(Throwable cause) {
        String text = cause.getMessage() == null ? "" : cause.getMessage().replaceAll("\\s+", " ").trim();
        return cause.getClass().getSimpleName() + (text.isEmpty() ? "" : ": " + text);
    }

    private static void copy(Message message, String from, String to) {
        Object value = message.getHeader(from);
        if (value != null) {
            message.setHeader(to, String.valueOf(value));
        }
    }
}
