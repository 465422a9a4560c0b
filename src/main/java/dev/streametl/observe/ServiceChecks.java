package dev.streametl.observe;

import java.time.Duration;

import org.apache.camel.BindToRegistry;
import org.apache.camel.Configuration;
import org.apache.camel.PropertyInject;

/**
 * The readiness checks of the three servers and of the stages (none stalled, no needed column missing), as beans: camel-health runs every HealthCheck of the registry, and
 * camel-main serves the results on {@code /observe/health} (503 and the failing checks while one is DOWN).
 */
@Configuration
public class ServiceChecks {

    @PropertyInject("etl.health.timeout-ms")
    long timeoutMillis;
    @PropertyInject("etl.postgres.host")
    String postgresHost;
    @PropertyInject("etl.postgres.port")
    int postgresPort;
    @PropertyInject("etl.postgres.database")
    String postgresDatabase;
    @PropertyInject("etl.postgres.user")
    String postgresUser;
    @PropertyInject("etl.postgres.password")
    String postgresPassword;
    @PropertyInject("camel.component.debezium-postgres.slot-name")
    String slotName;
    @PropertyInject("etl.capture.source")
    String captureSource;
    @PropertyInject("etl.health.capture-grace-ms")
    long captureGraceMillis;
    @PropertyInject("etl.health.max-retained-wal-mb")
    long maxRetainedWalMegabytes;
    @PropertyInject("etl.health.stall-after-ms")
    long stallAfterMillis;
    @PropertyInject("camel.component.debezium-postgres.offset-storage-file-name")
    String offsetsFileName;
    @PropertyInject(value = "etl.postgres.sslmode", defaultValue = "")
    String postgresSslMode;
    @PropertyInject(value = "etl.postgres.sslrootcert", defaultValue = "")
    String postgresSslRootCert;

    @BindToRegistry
    public PostgresCheck postgresCheck() {
        // the slot tells whether Debezium streams only when the capture is Debezium's (not when swapped for a test)
        Duration captureGrace = captureSource.startsWith("debezium-postgres:") ? Duration.ofMillis(captureGraceMillis) : null;
        return new PostgresCheck(postgresHost, postgresPort, postgresDatabase, postgresUser, postgresPassword, slotName,
                captureGrace, timeout()).withTls(postgresSslMode, postgresSslRootCert)
                .withMaxRetainedWal(maxRetainedWalMegabytes * 1024 * 1024);
    }

    @BindToRegistry
    public StageStallCheck stageStallCheck() {
        String offsetsFile = captureSource.startsWith("debezium-postgres:") ? offsetsFileName : null;
        return new StageStallCheck(Duration.ofMillis(stallAfterMillis), offsetsFile);
    }

    @BindToRegistry
    public ColumnsCheck columnsCheck() {
        return new ColumnsCheck(); // a column the pipeline needs, dropped or renamed in PostgreSQL
    }

    @BindToRegistry
    public KafkaCheck kafkaCheck() {
        return new KafkaCheck(timeout()); // as the kafka component connects
    }

    @BindToRegistry
    public ElasticsearchCheck elasticsearchCheck() {
        return new ElasticsearchCheck(timeout()); // through the pipeline's Elasticsearch client
    }

    private Duration timeout() {
        return Duration.ofMillis(timeoutMillis);
    }
}
