package dev.streametl.observe;

import java.util.Map;
import java.util.stream.Collectors;

import dev.streametl.pipeline.MissingColumns;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * DOWN while the latest change of a table lacks a column the pipeline needs (dropped or renamed in PostgreSQL): those
 * changes go to the dead letter topic, and this says which table and column, since when and how many. UP again once a
 * change of that table has every column. A readiness check: the pipeline itself goes on.
 */
public final class ColumnsCheck extends AbstractHealthCheck {

    public ColumnsCheck() {
        super("stages", "columns");
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        var reports = MissingColumns.now();
        if (reports.isEmpty()) {
            builder.up();
            return;
        }
        builder.down().message(reports.stream()
                .map(report -> "the latest change of " + report.table() + " has no column "
                               + String.join(", ", report.columns()) + " (dropped or renamed in PostgreSQL?): "
                               + report.changes() + " changes sent to the dead letter topic since " + report.since())
                .collect(Collectors.joining("; ")));
        reports.forEach(report -> builder.detail("missing." + report.table(), String.join(",", report.columns())));
    }
}
