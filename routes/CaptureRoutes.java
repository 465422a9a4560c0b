package dev.streametl.routes;

import dev.streametl.pipeline.CapturePublications;
import dev.streametl.pipeline.ChangeEventMapper;
import dev.streametl.pipeline.KafkaRefusal;
import dev.streametl.pipeline.KafkaSecurity;
import dev.streametl.pipeline.RecordFormat;
import dev.streametl.pipeline.TableTruncation;
import java.time.Duration;
import org.apache.camel.ShutdownRunningTask;
import org.apache.camel.component.debezium.DebeziumConstants;

/**
 * Stage 1, capture: every row change of PostgreSQL (snapshot, then live) onto one change topic per table,
 * keyed by primary key. A delete is followed by a tombstone, so the topics can be compacted.
 * <p>
 * Debezium hands over one change at a time. Waiting for Kafka's acknowledgement of each would bound capture by the
 * Kafka round trip, so the changes are handed, in order, to a queue whose one consumer sends them without waiting
 * (the Kafka producer batches them, idempotent, retrying in order). Debezium's offsets are saved only once every change
 * handed over is acknowledged ({@link CapturePublications}), so a crash still replays and never skips. The publishing
 * route starts first and stops last, after the capture has saved its last offsets, the queue drained.
 * <p>
 * A TRUNCATE is handed over as the deletes of the rows it removed ({@link TableTruncation}).
 */
public class CaptureRoutes extends PipelineRoutes {

    /** In order, bounded: when Kafka is slow or down, the capture waits here (back pressure), losing nothing. */
    static final String CHANGE_QUEUE = "seda:publish-changes?size=10000&blockWhenFull=true";

    @Override
    protected void routes() {
        CapturePublications publications = CapturePublications.open(
                setting("camel.component.debezium-postgres.offset-storage-file-name"));
        RecordFormat format = bean(PipelineBeans.FORMAT, RecordFormat.class);
        ChangeEventMapper changes = new ChangeEventMapper(
                setting("camel.component.debezium-postgres.signal-data-collection"), format);
        TableTruncation truncation = new TableTruncation(publications,
                () -> KafkaSecurity.clientConfig(getContext()), Duration.ofSeconds(30), format);

        from("{{etl.capture.source}}")
                .routeId("capture-changes")
                .autoStartup("{{etl.capture.enabled}}")
                .startupOrder(2) // after publish-changes: shut down before it, so its last offsets can be saved
                // a heartbeat carries only Debezium's position: done here, its offset is saved once every change handed
                // over before it is acknowledged, like any change's, and the replication slot moves on
                .filter(ChangeEventMapper.HEARTBEAT)
                    .stop()
                .end()
                .process(changes)
                // Debezium's signal table: the operator's signals and an incremental snapshot's watermarks. Read (their
                // position dates the snapshot's rows), not published
                .filter(changes::isSignal)
                    .stop()
                .end()
                .choice()
                    .when(TableTruncation.IS_TRUNCATE)
                        .process(truncation::deletes)
                        .split(body())
                            .process(TableTruncation::handOver)
                            .to("direct:hand-over-change")
                        .end()
                    .endChoice()
                    .otherwise()
                        .to("direct:hand-over-change");

        // in order, on the capture's thread: a change, then a delete's tombstone
        from("direct:hand-over-change")
                .routeId("hand-over-change")
                .process(metrics::captured)
                .process(publications::handedOver)
                .to(CHANGE_QUEUE)
                .filter(header(DebeziumConstants.HEADER_OPERATION).isEqualTo("d"))
                    .setBody(constant(null))
                    .process(publications::handedOver)
                    .to(CHANGE_QUEUE)
                .end();

        from(CHANGE_QUEUE)
                .routeId("publish-changes")
                .startupOrder(1)
                .shutdownRunningTask(ShutdownRunningTask.CompleteAllTasks)
                // a change Kafka refuses for good (too large, a topic it may not write, ...): retrying would freeze the
                // capture's offsets, and the replication slot with them, for ever. It goes to the dead letter topic
                // (key, reason, as much of the change as fits) and counts as delivered, so capture goes on
                .onException(KafkaRefusal.PERMANENT)
                    .maximumRedeliveries(0)
                    .handled(true)
                    .logExhausted(false)
                    .process(KafkaRefusal::deadLetter)
                    .to(DEAD_LETTER)
                    .process(publications::acknowledged)
                .end()
                .toD("{{etl.capture.sink}}")
                .process(publications::acknowledged);
    }
}
