package dev.streametl.pipeline;

import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The columns the pipeline needs that the latest change of a table lacks: a column dropped or renamed in PostgreSQL
 * while the pipeline runs. Such a change cannot be processed (its row is read into a record of every column the
 * pipeline uses), so it goes to the dead letter topic, and health is DOWN saying which table lacks which column, until
 * a change of that table has them all again (the column restored, or the pipeline adapted). A column added changes
 * nothing: columns the pipeline does not use are ignored.
 */
public final class MissingColumns {

    /** Per row type (one per table): what its latest change lacked. Empty while every change has its columns. */
    private static final Map<Class<?>, Report> LATEST = new ConcurrentHashMap<>();

    /**
     * @param table   the table, as the change's source names it
     * @param columns the columns the pipeline needs that its latest change lacked
     * @param since   when the first such change was read
     * @param changes how many changes lacked them since
     */
    public record Report(String table, List<String> columns, Instant since, long changes) {
    }

    private MissingColumns() {
    }

    /** The tables whose latest change lacked a column the pipeline needs. */
    public static Collection<Report> now() {
        return List.copyOf(LATEST.values());
    }

    /**
     * Looks, in a change that could not be read, for the columns of the row type its row lacks. When there are, notes
     * them and returns the reason to give; otherwise null (the change is wrong in some other way).
     */
    static String explain(String json, Class<?> rowType) {
        JsonNode change;
        try {
            change = Json.MAPPER.readTree(json);
        } catch (Exception e) {
            return null;
        }
        return explain(change, rowType);
    }

    /** {@link #explain(String, Class)} for a change already read (from Avro). */
    static String explain(JsonNode change, Class<?> rowType) {
        if (change == null) {
            return null;
        }
        JsonNode row = change.path("d".equals(change.path("op").asText()) ? "before" : "after");
        if (!row.isObject() || !rowType.isRecord()) {
            return null;
        }
        List<String> missing = new ArrayList<>();
        for (RecordComponent component : rowType.getRecordComponents()) {
            // a record component's annotation lands on its field, accessor and constructor parameter, not on itself
            JsonProperty property = component.getAccessor().getAnnotation(JsonProperty.class);
            String column = property != null && !property.value().isEmpty() ? property.value() : component.getName();
            if (!row.has(column)) {
                missing.add(column);
            }
        }
        if (missing.isEmpty()) {
            return null;
        }
        String table = change.path("source").path("table").asText(rowType.getSimpleName());
        LATEST.merge(rowType, new Report(table, List.copyOf(missing), Instant.now(), 1),
                (old, now) -> new Report(table, now.columns(), old.since(), old.changes() + 1));
        return "the " + table + " row has no column " + String.join(", ", missing)
               + " (dropped or renamed in PostgreSQL?), which the pipeline needs";
    }

    /** A change of this row type had every column: its table is fine again. */
    static void complete(Class<?> rowType) {
        if (!LATEST.isEmpty()) {
            LATEST.remove(rowType);
        }
    }
}
