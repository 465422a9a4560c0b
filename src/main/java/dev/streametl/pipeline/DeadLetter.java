package dev.streametl.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.debezium.DebeziumConstants;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.apache.camel.support.ExchangeHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetter.class);
    private static final String REJECTED = "etlRejectedRecords";

    private DeadLetter() {
    }

    public static void describe(Exchange exchange) {
        Message message = exchange.getMessage();
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        message.setHeader(ERROR, cause == null ? "unknown error" : reason(cause));
        copy(message, KafkaConstants.TOPIC, SOURCE_TOPIC);
        copy(message, KafkaConstants.PARTITION, SOURCE_PARTITION);
        copy(message, KafkaConstants.OFFSET, SOURCE_OFFSET);
        if (message.getHeader(SOURCE_TOPIC) == null) {
            copy(message, DebeziumConstants.HEADER_IDENTIFIER, SOURCE_TOPIC); // a captured change: its change topic
        }
        message.setHeader(ROUTE, exchange.getProperty(Exchange.FAILURE_ROUTE_ID, String.class));
    }

    /**
     * Sets aside a record of a batch that cannot be processed, so that the rest of the batch goes on: the record, as it
     * came, with the reason and where it came from, is among {@link #rejected(Exchange)} for the dead letter endpoint.
     */
    public static void reject(Exchange batch, Message record, RuntimeException cause) {
        Message deadLetter = new DefaultMessage(batch);
        deadLetter.setBody(record.getBody());
        deadLetter.setHeader(ERROR, reason(cause));
        copy(record, deadLetter, KafkaConstants.KEY, KafkaConstants.KEY);
        copy(record, deadLetter, KafkaConstants.TOPIC, SOURCE_TOPIC);
        copy(record, deadLetter, KafkaConstants.PARTITION, SOURCE_PARTITION);
        copy(record, deadLetter, KafkaConstants.OFFSET, SOURCE_OFFSET);
        String route = ExchangeHelper.getAtRouteId(batch); // the route the batch is in, called or not
        if (route == null) {
            route = batch.getFromRouteId();
        }
        deadLetter.setHeader(ROUTE, route);
        LOG.warn("Dead letter from {}: {}", route, cause.getMessage());
        @SuppressWarnings("unchecked")
        List<Message> rejected = batch.getProperty(REJECTED, List.class);
        if (rejected == null) {
            rejected = new ArrayList<>();
            batch.setProperty(REJECTED, rejected);
        }
        rejected.add(deadLetter);
    }

    /**
     * Runs the pipeline's own code on one record of a batch ({@link RecordFault#guard}): what it gives, or empty when it
     * gives nothing or fails, the record then set aside with {@link #reject} so that the others of the batch go on.
     */
    public static <T> Optional<T> processOrReject(Exchange batch, Message record, Supplier<T> step) {
        try {
            return Optional.ofNullable(RecordFault.guard(step));
        } catch (InvalidRecordException e) {
            reject(batch, record, e);
            return Optional.empty();
        }
    }

    /** The records of a batch set aside by {@link #reject}, as dead letters; none if all went through. */
    @SuppressWarnings("unchecked")
    public static List<Message> rejected(Exchange batch) {
        List<Message> rejected = batch.getProperty(REJECTED, List.class);
        return rejected == null ? List.of() : rejected;
    }

    static String reason(Throwable cause) {
        String text = cause.getMessage() == null ? "" : cause.getMessage().replaceAll("\\s+", " ").trim();
        return cause.getClass().getSimpleName() + (text.isEmpty() ? "" : ": " + text);
    }

    private static void copy(Message message, String from, String to) {
        copy(message, message, from, to);
    }

    private static void copy(Message source, Message target, String from, String to) {
        Object value = source.getHeader(from);
        if (value != null) {
            target.setHeader(to, from.equals(to) ? value : String.valueOf(value));
        }
    }
}
