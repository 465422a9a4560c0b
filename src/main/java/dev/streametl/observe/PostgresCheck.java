package dev.streametl.observe;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Properties;

import org.apache.camel.health.HealthCheckResultBuilder;

/**
 * PostgreSQL, the source of the capture, can be reached and logged in to. Whether Debezium's replication slot is in
 * use is shown as a detail ({@code slot.active}): it is not while the pipeline starts or Debezium reconnects.
 */
public final class PostgresCheck extends ServiceCheck {

    private final String jdbcUrl;
    private final Properties login = new Properties();
    private final String slotName;

    public PostgresCheck(String host, int port, String database, String user, String password, String slotName,
                         Duration timeout) {
        super("postgresql", timeout);
        this.jdbcUrl = "jdbc:postgresql://" + host + ":" + port + "/" + database;
        this.slotName = slotName;
        long seconds = Math.max(1, timeout.toSeconds());
        login.setProperty("user", user);
        login.setProperty("password", password);
        login.setProperty("connectTimeout", String.valueOf(seconds));
        login.setProperty("loginTimeout", String.valueOf(seconds));
        login.setProperty("socketTimeout", String.valueOf(seconds));
        login.setProperty("ApplicationName", "streaming-etl-health");
    }

    @Override
    protected String probe(HealthCheckResultBuilder builder) throws Exception {
        builder.detail("url", jdbcUrl);
        try (Connection db = DriverManager.getConnection(jdbcUrl, login);
             PreparedStatement slot = db.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            slot.setString(1, slotName);
            try (ResultSet result = slot.executeQuery()) {
                String active = result.next() ? String.valueOf(result.getBoolean(1)) : "no slot yet";
                builder.detail("slot.active", active);
                return "reachable, replication slot " + slotName + " active: " + active;
            }
        }
    }
}
