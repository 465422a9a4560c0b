package dev.streametl.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL 17 server (zonky's embedded binaries, run as a child process) ready for Debezium: logical
 * WAL, replication slots, trust authentication, and the {@value #DATABASE} database.
 *
 * <p>Layout of the service directory: {@code pgdata/} (the cluster, kept across runs) and {@code postgres.log}.
 */
public final class EmbeddedPostgres implements AutoCloseable {

    public static final String DATABASE = "inventory";
    public static final String USER = "postgres";
    public static final String PASSWORD = "postgres";

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
    private static final String HOST = "localhost";
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(30);
    private static final Duration LEFTOVER_STOP_GRACE = Duration.ofSeconds(20);

    private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedPostgres(io.zonky.test.db.postgres.embedded.EmbeddedPostgres server) {
        this.server = server;
        this.port = server.getPort();
    }

    /**
     * Starts PostgreSQL on {@code port} (0: a free port) with its data under {@code serviceDir}. When the
     * {@value #DATABASE} database does not exist yet it is created and {@code initScripts} run in it, in order;
     * on later starts the scripts are not run again.
     */
    public static EmbeddedPostgres start(int port, Path serviceDir, List<Path> initScripts) throws IOException, SQLException {
        Path dir = serviceDir.toAbsolutePath().normalize();
        Path pgData = dir.resolve("pgdata");
        Files.createDirectories(dir);
        // a postmaster orphaned by a killed run would make pg_ctl refuse to start on this data directory
        ProcessTree.stopLeftover(pgData.resolve("postmaster.pid"), "postgres", LEFTOVER_STOP_GRACE);
        int chosenPort = Ports.choose(port, "PostgreSQL");

        ProcessBuilder.Redirect log = ProcessBuilder.Redirect.appendTo(dir.resolve("postgres.log").toFile());
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres server = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                .setPort(chosenPort)
                .setPgBinaryResolver(new PostgresBinaries())
                .setDataDirectory(pgData)
                // zonky wipes its data directory at each start unless told otherwise
                .setCleanDataDirectory(false)
                .setServerConfig("wal_level", "logical")
                .setServerConfig("max_replication_slots", "10")
                .setServerConfig("max_wal_senders", "10")
                // zonky turns this off for speed; the data here is meant to survive a crash
                .setServerConfig("synchronous_commit", "on")
                .setPGStartupWait(STARTUP_WAIT)
                .setOutputRedirector(log)
                .setErrorRedirector(log)
                .start();

        EmbeddedPostgres postgres = new EmbeddedPostgres(server);
        try {
            postgres.createDatabaseOnce(initScripts);
        } catch (SQLException | IOException | RuntimeException e) {
            postgres.close();
            throw e;
        }
        return postgres;
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    /** JDBC URL of the {@value #DATABASE} database; log in as {@value #USER} / {@value #PASSWORD}. */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    private String jdbcUrl(String database) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + database;
    }

    private void createDatabaseOnce(List<Path> initScripts) throws SQLException, IOException {
        try (Connection admin = DriverManager.getConnection(jdbcUrl("postgres"), USER, PASSWORD)) {
            if (databaseExists(admin)) {
                return;
            }
            try (Statement statement = admin.createStatement()) {
                statement.execute("CREATE DATABASE " + DATABASE);
                // trust authentication accepts any password; this one makes a switch to md5/scram painless
                statement.execute("ALTER ROLE " + USER + " PASSWORD '" + PASSWORD + "'");
            }
            try {
                runScripts(initScripts);
            } catch (SQLException | IOException | RuntimeException e) {
                // a half-initialised database would be skipped at the next start: drop it so the scripts run again
                try (Statement statement = admin.createStatement()) {
                    statement.execute("DROP DATABASE " + DATABASE);
                }
                throw e;
            }
        }
    }

    private static boolean databaseExists(Connection admin) throws SQLException {
        try (PreparedStatement query = admin.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            query.setString(1, DATABASE);
            try (ResultSet rows = query.executeQuery()) {
                return rows.next();
            }
        }
    }

    /** Each file is sent as one multi-statement string: plain SQL only, no psql meta-commands. */
    private void runScripts(List<Path> initScripts) throws SQLException, IOException {
        try (Connection connection = DriverManager.getConnection(jdbcUrl(), USER, PASSWORD);
             Statement statement = connection.createStatement()) {
            for (Path script : initScripts) {
                if (!Files.isRegularFile(script)) {
                    LOG.warn("Init script {} not found: skipped. Database {} counts as initialised from now on;"
                            + " delete the PostgreSQL data directory to run the scripts again", script.toAbsolutePath(), DATABASE);
                    continue;
                }
                LOG.info("Running {} in database {}", script, DATABASE);
                try {
                    statement.execute(Files.readString(script));
                } catch (SQLException e) {
                    throw new SQLException("Init script " + script + " failed: " + e.getMessage(), e.getSQLState(), e);
                }
            }
        }
    }

    /** Stops the server (fast shutdown: open sessions, replication included, are disconnected). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long startNanos = System.nanoTime();
        try {
            server.close();
            LOG.info("PostgreSQL on port {} stopped in {} ms", port, (System.nanoTime() - startNanos) / 1_000_000);
        } catch (IOException e) {
            LOG.warn("PostgreSQL on port {} did not stop cleanly", port, e);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedPostgres[" + jdbcUrl() + "]";
    }
}
