package dev.streametl.observe;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The progress line, logged every {@code etl.progress.interval-ms}: what has been captured, enriched, indexed, left
 * unmatched and dead-lettered so far, and the current end-to-end lag. During the initial snapshot it also says how
 * far the snapshot has got: rows read of rows estimated, the estimate taken once from PostgreSQL's statistics
 * ({@code pg_class.reltuples}), or {@code count(*)} for a table never analysed.
 */
public final class PipelineProgress {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineProgress.class);
    private static final long IDLE_MILLIS = 10_000;

    private final PipelineMetrics metrics;
    private final SnapshotEstimate estimate;
    private Map<String, Long> estimatedRows;

    public PipelineProgress(PipelineMetrics metrics, SnapshotEstimate estimate) {
        this.metrics = metrics;
        this.estimate = estimate;
    }

    /** The progress of the pipeline these meters count, its estimate read from the configured source database. */
    public static PipelineProgress of(PipelineMetrics metrics, CamelContext context) {
        return new PipelineProgress(metrics, SnapshotEstimate.of(context));
    }

    public void report(Exchange exchange) {
        LOG.info(line());
    }

    /** The line as logged. */
    public String line() {
        StringBuilder line = new StringBuilder("Progress: captured ").append(metrics.captured());
        Map<String, Long> byTable = metrics.capturedByTable();
        if (!byTable.isEmpty()) {
            line.append(' ').append(byTable.toString().replace('{', '(').replace('}', ')').replace("=", " "));
        }
        line.append(", enriched ").append(metrics.enriched())
                .append(", indexed ").append(metrics.indexed())
                .append(", unmatched ").append(metrics.unmatched())
                .append(", dead-lettered ").append(metrics.deadLettered())
                .append(", lag ").append(lag(metrics.latestLagMillis()));
        long idleMillis = System.currentTimeMillis() - metrics.lastIndexedMillis();
        if (metrics.lastIndexedMillis() > 0 && idleMillis >= IDLE_MILLIS) {
            // nothing indexed lately: the last lag is history, not the current delay
            line.append(" (last order indexed ").append(idleMillis / 1000).append(" s ago)");
        }
        if (metrics.isSnapshotting()) {
            line.append("; snapshot ").append(snapshot());
        }
        return line.toString();
    }

    private String snapshot() {
        Map<String, Long> done = metrics.snapshotReadsByTable();
        if (estimatedRows == null) {
            estimatedRows = estimate.rowsPerTable(); // once: the tables do not grow much during a snapshot
        }
        long rowsDone = done.values().stream().mapToLong(Long::longValue).sum();
        long rowsEstimated = estimatedRows.values().stream().mapToLong(Long::longValue).sum();
        if (rowsEstimated <= 0) {
            return rowsDone + " rows read (no estimate)";
        }
        return String.format(Locale.ROOT, "%d of ~%d rows (%d%%)", rowsDone, rowsEstimated,
                Math.min(100, rowsDone * 100 / rowsEstimated));
    }

    static String lag(long millis) {
        if (millis < 0) {
            return "n/a";
        }
        return millis < 10_000 ? String.format(Locale.ROOT, "%.1f s", millis / 1000.0) : (millis / 1000) + " s";
    }

    /** How many rows each captured table holds, by PostgreSQL's own estimate. */
    public interface SnapshotEstimate {

        Map<String, Long> rowsPerTable();

        static SnapshotEstimate of(CamelContext context) {
            String host = context.resolvePropertyPlaceholders("{{etl.postgres.host}}");
            String port = context.resolvePropertyPlaceholders("{{etl.postgres.port}}");
            String database = context.resolvePropertyPlaceholders("{{etl.postgres.database}}");
            Properties login = new Properties();
            login.setProperty("user", context.resolvePropertyPlaceholders("{{etl.postgres.user}}"));
            login.setProperty("password", context.resolvePropertyPlaceholders("{{etl.postgres.password}}"));
            login.setProperty("connectTimeout", "5");
            PostgresCheck.tls(login, context.resolvePropertyPlaceholders("{{etl.postgres.sslmode}}"),
                    context.resolvePropertyPlaceholders("{{etl.postgres.sslrootcert}}"));
            List<String> tables = Arrays.stream(context.resolvePropertyPlaceholders(
                    "{{camel.component.debezium-postgres.table-include-list}}").split(","))
                    .map(String::trim).filter(table -> !table.isEmpty()).toList();
            return () -> fromStatistics("jdbc:postgresql://" + host + ":" + port + "/" + database, login, tables);
        }
    }

    /** reltuples, or count(*) where PostgreSQL has no statistics yet (reltuples -1: never vacuumed nor analysed). */
    static Map<String, Long> fromStatistics(String jdbcUrl, Properties login, List<String> tables) {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection db = DriverManager.getConnection(jdbcUrl, login);
             PreparedStatement statistics = db.prepareStatement("SELECT reltuples::bigint FROM pg_class WHERE oid = ?::regclass")) {
            for (String table : tables) {
                statistics.setString(1, table);
                long estimate = -1;
                try (ResultSet result = statistics.executeQuery()) {
                    if (result.next()) {
                        estimate = result.getLong(1);
                    }
                }
                if (estimate < 0) {
                    try (PreparedStatement count = db.prepareStatement("SELECT count(*) FROM " + table);
                         ResultSet result = count.executeQuery()) {
                        estimate = result.next() ? result.getLong(1) : 0;
                    }
                }
                rows.put(table.substring(table.lastIndexOf('.') + 1), estimate);
            }
        } catch (SQLException e) {
            LOG.warn("No estimate of the snapshot's size: {}", e.getMessage());
        }
        return rows;
    }
}
