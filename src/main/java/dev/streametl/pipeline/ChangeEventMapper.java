package dev.streametl.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Predicate;
import org.apache.camel.Processor;
import org.apache.camel.component.debezium.DebeziumConstants;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/**
 * Turns a change captured by Debezium (body: the row after the change as a Kafka Connect {@link Struct}, the rest in
 * headers) into the record written to the change topic: key = the primary key as JSON ({@code {"id":1}}), value =
 * the change envelope as JSON ({@link ChangeEvent}); with {@code etl.format=avro}, both in Avro as Debezium's Avro
 * converter writes them ({@link ChangeEventAvro}). The one place where Debezium's types are read.
 */
public final class ChangeEventMapper implements Processor {

    /**
     * A Debezium heartbeat, not a row change: Debezium emits one every {@code heartbeat-interval-ms} on the topic
     * {@code __debezium-heartbeat.<topic prefix>} (its default prefix), with no operation, no row and no source, only
     * the position in PostgreSQL's log it has reached. It must not reach the change topics, but the capture must take
     * it like a change (return normally), so that Debezium saves its offset and moves the replication slot on.
     */
    public static final Predicate HEARTBEAT = exchange -> exchange.getMessage()
            .getHeader(DebeziumConstants.HEADER_IDENTIFIER, "", String.class).startsWith("__debezium-heartbeat.");

    /** The table of Debezium's signals ({@code signal-data-collection}), as in a change's identifier: its rows are not data. */
    private final String signalTable;
    /** The position in PostgreSQL's log of the last change read from the stream; -1 before the first. */
    private final AtomicLong streamPosition = new AtomicLong(-1);

    private final RecordFormat format;

    /** @param signalCollection Debezium's signal table ({@code public.debezium_signal}); null or blank: none */
    public ChangeEventMapper(String signalCollection) {
        this(signalCollection, RecordFormat.json());
    }

    /** @param format how the change topics' records are written */
    public ChangeEventMapper(String signalCollection, RecordFormat format) {
        this.signalTable = signalCollection == null || signalCollection.isBlank() ? null : "." + signalCollection.trim();
        this.format = format;
    }

    @Override
    public void process(Exchange exchange) {
        // a signal is not published, and a truncate is read by TableTruncation before it becomes deletes: JSON both
        boolean avro = format.isAvro() && !isSignal(exchange) && !TableTruncation.IS_TRUNCATE.matches(exchange);
        RecordFault.guard(() -> map(exchange.getMessage(), avro)); // a change it cannot map is that change's fault
    }

    /** A row of Debezium's signal table (an operator's signal, an incremental snapshot's watermark): not the pipeline's. */
    public boolean isSignal(Exchange exchange) {
        String table = exchange.getMessage().getHeader(DebeziumConstants.HEADER_IDENTIFIER, String.class);
        return signalTable != null && table != null && table.endsWith(signalTable);
    }

    private void map(Message message, boolean avro) {
        Map<String, Object> source = toMap(message.getHeader(DebeziumConstants.HEADER_SOURCE_METADATA));
        if (source != null && source.get("lsn") instanceof Number lsn) {
            streamPosition.accumulateAndGet(lsn.longValue(), Math::max);
        } else if (source != null && "incremental".equals(String.valueOf(source.get("snapshot")))
                   && streamPosition.get() >= 0) {
            // a row read by an incremental snapshot has no position of its own: it is emitted once the snapshot's
            // window closes in the stream, holding the row as it is there (a change of it inside the window wins
            // over the read), so it is current as of the stream's position: its version
            source.put("lsn", streamPosition.get());
        }
        ChangeEvent<Map<String, Object>> event = new ChangeEvent<>(
                toMap(message.getHeader(DebeziumConstants.HEADER_BEFORE)),
                toMap(message.getBody()),
                source,
                message.getHeader(DebeziumConstants.HEADER_OPERATION, String.class),
                message.getHeader(DebeziumConstants.HEADER_TIMESTAMP, Long.class));
        if (avro) {
            writeAvro(message, event);
            return;
        }
        message.setHeader(KafkaConstants.KEY, Json.write(toMap(message.getHeader(DebeziumConstants.HEADER_KEY))));
        message.setBody(Json.write(event));
    }

    /** Key and envelope as Debezium's Avro converter writes them, their schemas made from the structs' own. */
    private void writeAvro(Message message, ChangeEvent<?> event) {
        String topic = message.getHeader(DebeziumConstants.HEADER_IDENTIFIER, String.class);
        Struct key = struct(message.getHeader(DebeziumConstants.HEADER_KEY), "key");
        Struct before = struct(message.getHeader(DebeziumConstants.HEADER_BEFORE), "before");
        Struct after = struct(message.getBody(), "after");
        Struct row = after != null ? after : before;
        if (key == null || row == null) {
            throw new InvalidRecordException("a change of " + topic + " with no " + (key == null ? "key" : "row"));
        }
        message.setHeader(KafkaConstants.KEY, format.avroRecord(ConfluentAvro.keySubject(topic),
                ChangeEventAvro.key(ChangeEventAvro.keySchema(topic, key.schema()), key)));
        message.setBody(format.avroRecord(ConfluentAvro.valueSubject(topic),
                ChangeEventAvro.envelope(ChangeEventAvro.envelopeSchema(topic, row.schema()), event, before, after)));
    }

    private static Struct struct(Object value, String what) {
        if (value == null || value instanceof Struct) {
            return (Struct) value;
        }
        throw new InvalidRecordException("the change's " + what + " is a " + value.getClass().getName() + ", not a Struct");
    }

    /** Structs and maps as plain, ordered maps of JSON-friendly values (nested structs included). */
    static Map<String, Object> toMap(Object value) {
        if (value == null) {
            return null;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        if (value instanceof Struct struct) {
            for (Field field : struct.schema().fields()) {
                map.put(field.name(), plain(struct.get(field)));
            }
        } else if (value instanceof Map<?, ?> source) {
            source.forEach((k, v) -> map.put(String.valueOf(k), plain(v)));
        } else {
            throw new InvalidRecordException("cannot read a row from " + value.getClass().getName());
        }
        return map;
    }

    private static Object plain(Object value) {
        return value instanceof Struct || value instanceof Map<?, ?> ? toMap(value) : value;
    }
}
