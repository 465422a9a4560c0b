package dev.streametl.pipeline;

import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JavaType;

/**
 * One row change as it travels on the change topics: Debezium's envelope, with the row before and after the change.
 *
 * @param before the row before the change (null for a create or a snapshot read)
 * @param after  the row after the change (null for a delete)
 * @param source where the change comes from: lsn, txId, ts_ms (commit time), table, ...
 * @param op     c (create), r (snapshot read), u (update) or d (delete)
 * @param tsMs   when the change was captured
 */
@JsonPropertyOrder({ "before", "after", "source", "op", "ts_ms" })
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ChangeEvent<T>(T before, T after, Map<String, Object> source, String op, @JsonProperty("ts_ms") Long tsMs) {

    private static final Set<String> OPERATIONS = Set.of("c", "r", "u", "d");

    @JsonIgnore
    public boolean isDelete() {
        return "d".equals(op);
    }

    /** The row as it is now: after the change, or before it for a delete. */
    public T row() {
        return isDelete() ? before : after;
    }

    /** Commit time of the change in the source database, in epoch milliseconds, when known. */
    public Long sourceTimestamp() {
        return source != null && source.get("ts_ms") instanceof Number n ? n.longValue() : null;
    }

    /**
     * Where the change is in the source's log (PostgreSQL's LSN of the change, {@code source.lsn}): the changes of one
     * row come in increasing positions, so it is the row's version. Every write downstream carries it, and a sink
     * refuses a write older than what it has (a replay or a stale writer never overwrites a newer change).
     */
    public long position() {
        return ((Number) source.get("lsn")).longValue(); // checked by parse
    }

    /**
     * Reads a change of a row of the given type, rejecting what the pipeline cannot process: not JSON, not an object,
     * an unknown operation, no {@code after} for a create or an update, no {@code before} for a delete, a missing or
     * null column the row needs, columns of the wrong type, no position in the source ({@code source.lsn}). Whatever
     * goes wrong while reading is the record's fault: it comes out as an {@link InvalidRecordException}, never as
     * another error that would be taken for a failing server and retried. A row lacking a column the pipeline needs
     * (dropped or renamed in PostgreSQL) is said so, and noted for health ({@link MissingColumns}).
     */
    public static <T> ChangeEvent<T> parse(String json, Class<T> rowType) {
        ChangeEvent<T> event;
        try {
            event = RecordFault.guard(() -> read(json, rowType));
        } catch (InvalidRecordException e) {
            String missingColumns = MissingColumns.explain(json, rowType);
            throw missingColumns == null ? e : new InvalidRecordException(missingColumns + " (" + e.getMessage() + ")", e);
        }
        MissingColumns.complete(rowType);
        return event;
    }

    /**
     * The same checks as {@link #parse(String, Class)} for a change read from Avro ({@link ChangeEventAvro#change}): its
     * rows, plain maps by column, become rows of the given type as a JSON change's would.
     */
    public static <T> ChangeEvent<T> of(ChangeEvent<Map<String, Object>> plain, Class<T> rowType) {
        ChangeEvent<T> event;
        try {
            event = RecordFault.guard(() -> checked(new ChangeEvent<>(row(plain.before(), rowType),
                    row(plain.after(), rowType), plain.source(), plain.op(), plain.tsMs())));
        } catch (InvalidRecordException e) {
            String missingColumns = MissingColumns.explain(Json.MAPPER.valueToTree(plain), rowType);
            throw missingColumns == null ? e : new InvalidRecordException(missingColumns + " (" + e.getMessage() + ")", e);
        }
        MissingColumns.complete(rowType);
        return event;
    }

    private static <T> T row(Map<String, Object> row, Class<T> rowType) {
        try {
            return row == null ? null : Json.MAPPER.convertValue(row, rowType);
        } catch (IllegalArgumentException e) {
            throw new InvalidRecordException(e.getMessage(), e);
        }
    }

    private static <T> ChangeEvent<T> read(String json, Class<T> rowType) {
        if (json == null || json.isBlank()) {
            throw new InvalidRecordException("empty change record");
        }
        JavaType type = Json.MAPPER.getTypeFactory().constructParametricType(ChangeEvent.class, rowType);
        return checked(Json.read(json, type));
    }

    private static <T> ChangeEvent<T> checked(ChangeEvent<T> event) {
        if (!OPERATIONS.contains(event.op())) {
            throw new InvalidRecordException("unknown operation '" + event.op() + "' (expected one of c, r, u, d)");
        }
        if (event.row() == null) {
            throw new InvalidRecordException(
                    "no '" + (event.isDelete() ? "before" : "after") + "' row in a change with op '" + event.op() + "'");
        }
        if (event.source() == null || !(event.source().get("lsn") instanceof Number lsn) || lsn.longValue() < 0) {
            throw new InvalidRecordException("no position in the source (source.lsn) in a change with op '" + event.op() + "'");
        }
        return event;
    }
}
