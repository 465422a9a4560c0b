package dev.streametl.observe;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Properties;

import org.apache.camel.health.HealthCheckResultBuilder;

/**
 * PostgreSQL, the source of the capture, can be reached and logged in to, and Debezium streams from it: its
 * replication slot is in use ({@code pg_replication_slots.active}). The slot is idle while the initial snapshot runs
 * and for a moment while Debezium starts or reconnects, so an idle slot counts only outside a snapshot and once it has
 * been idle longer than the grace period ({@code etl.health.capture-grace-ms}): then Debezium has stopped (a stopped
 * capture route, an engine that gave up).
 */
public final class PostgresCheck extends ServiceCheck {

    private final String jdbcUrl;
    private final Properties login = new Properties();
    private final String slotName;
    /** How long the slot may stay idle outside a snapshot; null: the capture is not Debezium's, the slot is not checked. */
    private final Duration captureGrace;
    private volatile long idleSinceMillis = -1;

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
        try (Connection db = DriverManager.getConnection(jdbcUrl, login);
             PreparedStatement slot = db.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            slot.setString(1, slotName);
            boolean active;
            try (ResultSet result = slot.executeQuery()) {
                active = result.next() && result.getBoolean(1);
            }
            builder.detail("slot.active", active);
            checkStreaming(active);
            return "reachable, replication slot " + slotName + (active ? " in use" : " idle");
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
        return getCamelContext() != null && PipelineMetrics.of(getCamelContext()).isSnapshotting();
    }
}
