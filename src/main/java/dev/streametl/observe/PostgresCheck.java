package dev.streametl.observe;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

import org.apache.camel.health.HealthCheckResultBuilder;

/**
 * PostgreSQL, the source of the capture, can be reached and logged in to, and Debezium streams from it: its
 * replication slot is in use ({@code pg_replication_slots.active}). The slot is idle while the initial snapshot runs
 * and for a moment while Debezium starts or reconnects, so an idle slot counts only outside a snapshot and once it has
 * been idle longer than the grace period ({@code etl.health.capture-grace-ms}): then Debezium has stopped (a stopped
 * capture route, an engine that gave up).
 * <p>
 * The slot also holds WAL: PostgreSQL keeps every segment from the slot's {@code restart_lsn} on, whatever is written
 * (captured tables or not), until Debezium confirms it has it. That retained WAL is the one that fills a disk, and the
 * one {@code max_slot_wal_keep_size} and {@code wal_status} are about, so it is what is bounded here
 * ({@code etl.health.max-retained-wal-mb}); the WAL not yet confirmed ({@code confirmed_flush_lsn}, Debezium's lag) is
 * a detail. DOWN above the bound, and when {@code wal_status} is {@code unreserved} (WAL the slot needs is about to be
 * removed) or {@code lost} (it was: the capture cannot resume without a new snapshot).
 */
public final class PostgresCheck extends ServiceCheck {

    private final String jdbcUrl;
    private final Properties login = new Properties();
    private final String slotName;
    /** How long the slot may stay idle outside a snapshot; null: the capture is not Debezium's, the slot is not checked. */
    private final Duration captureGrace;
    private volatile long idleSinceMillis = -1;
    /** Above this many bytes of WAL retained by the slot, DOWN; 0: no bound. */
    private long maxRetainedWalBytes;

    public PostgresCheck(String host, int port, String database, String user, String password, String slotName,
                         Duration captureGrace, Duration timeout) {
        super("postgresql", timeout);
        this.jdbcUrl = "jdbc:postgresql://" + host + ":" + port + "/" + database;
        this.slotName = slotName;
        this.captureGrace = captureGrace;
        long seconds = Math.max(1, timeout.toSeconds());
        login.setProperty("user", user);
        login.setProperty("password", password);
        login.setProperty("connectTimeout", String.valueOf(seconds));
        login.setProperty("loginTimeout", String.valueOf(seconds));
        login.setProperty("socketTimeout", String.valueOf(seconds));
        login.setProperty("ApplicationName", "streaming-etl-health");
    }

    /**
     * Connects over TLS as configured ({@code etl.postgres.sslmode}: disable, prefer, require, verify-ca, verify-full;
     * {@code etl.postgres.sslrootcert}: the PEM file of the CA to trust, needed by verify-ca and verify-full).
     */
    public PostgresCheck withTls(String sslmode, String sslRootCert) {
        tls(login, sslmode, sslRootCert);
        return this;
    }

    /** DOWN once the replication slot retains more WAL than this (0: no bound, only {@code wal_status} counts). */
    public PostgresCheck withMaxRetainedWal(long bytes) {
        this.maxRetainedWalBytes = bytes;
        return this;
    }

    /** Adds the TLS settings to the properties of a JDBC connection (a blank one is left out: the driver's default). */
    static void tls(Properties connection, String sslmode, String sslRootCert) {
        if (sslmode != null && !sslmode.isBlank()) {
            connection.setProperty("sslmode", sslmode.trim());
        }
        if (sslRootCert != null && !sslRootCert.isBlank()) {
            connection.setProperty("sslrootcert", sslRootCert.trim());
        }
    }

    @Override
    protected String probe(HealthCheckResultBuilder builder) throws Exception {
        builder.detail("url", jdbcUrl);
        try (Connection db = DriverManager.getConnection(jdbcUrl, login)) {
            Slot slot = slot(db);
            builder.detail("slot.active", slot.active());
            if (slot.walStatus() != null) {
                builder.detail("slot.wal-status", slot.walStatus());
                builder.detail("slot.retained-wal-bytes", slot.retainedWalBytes());
                builder.detail("slot.unconfirmed-wal-bytes", slot.unconfirmedWalBytes());
            }
            checkStreaming(slot.active());
            checkRetainedWal(slot);
            return "reachable, replication slot " + slotName + (slot.active() ? " in use" : " idle");
        }
    }

    /**
     * The WAL PostgreSQL keeps for the replication slot, in bytes (from its {@code restart_lsn} to the current
     * position); NaN when it cannot be read (no slot yet, PostgreSQL away). For the metric: a query of its own.
     */
    public double retainedWalBytes() {
        try (Connection db = DriverManager.getConnection(jdbcUrl, login)) {
            Long retained = slot(db).retainedWalBytes();
            return retained == null ? Double.NaN : retained;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    /** What pg_replication_slots says of the slot; nothing known (not active, no WAL status) when there is none. */
    private Slot slot(Connection db) throws SQLException {
        try (PreparedStatement query = db.prepareStatement("SELECT active, wal_status,"
                + " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint,"
                + " pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint"
                + " FROM pg_replication_slots WHERE slot_name = ?")) {
            query.setString(1, slotName);
            try (ResultSet result = query.executeQuery()) {
                if (!result.next()) {
                    return new Slot(false, null, null, null);
                }
                return new Slot(result.getBoolean(1), result.getString(2), result.getObject(3, Long.class),
                        result.getObject(4, Long.class));
            }
        }
    }

    private record Slot(boolean active, String walStatus, Long retainedWalBytes, Long unconfirmedWalBytes) {
    }

    private void checkRetainedWal(Slot slot) throws Unfit {
        if ("lost".equals(slot.walStatus()) || "unreserved".equals(slot.walStatus())) {
            throw new Unfit("replication slot " + slotName + ": its WAL is " + slot.walStatus() + " (max_slot_wal_keep_size):"
                    + " changes are, or are about to be, lost to the capture");
        }
        if (maxRetainedWalBytes > 0 && slot.retainedWalBytes() != null && slot.retainedWalBytes() > maxRetainedWalBytes) {
            throw new Unfit("replication slot " + slotName + " retains " + slot.retainedWalBytes() / (1024 * 1024)
                    + " MB of WAL, more than " + maxRetainedWalBytes / (1024 * 1024) + " MB (is Debezium reading?"
                    + " its offsets saved?)");
        }
    }

    private void checkStreaming(boolean active) throws Unfit {
        if (captureGrace == null || active || isSnapshotting()) {
            idleSinceMillis = -1;
            return;
        }
        long now = System.currentTimeMillis();
        if (idleSinceMillis < 0) {
            idleSinceMillis = now;
        }
        long idleMillis = now - idleSinceMillis;
        if (idleMillis > captureGrace.toMillis()) {
            throw new Unfit("Debezium is not streaming: replication slot " + slotName + " idle for " + idleMillis / 1000
                    + " s");
        }
    }

    private boolean isSnapshotting() {
        if (getCamelContext() == null) {
            return false;
        }
        PipelineMetrics metrics = getCamelContext().getRegistry().findSingleByType(PipelineMetrics.class);
        return metrics != null && metrics.isSnapshotting();
    }
}
