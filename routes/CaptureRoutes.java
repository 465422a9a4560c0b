package dev.streametl.routes;

import dev.streametl.pipeline.ChangeEventMapper;
import dev.streametl.pipeline.PipelineRoutes;
import org.apache.camel.component.debezium.DebeziumConstants;

/**
 * Stage 1, capture: every row change of PostgreSQL (snapshot, then live) onto one change topic per table,
 * keyed by primary key. A delete is followed by a tombstone, so the topics can be compacted.
 */
public class CaptureRoutes extends PipelineRoutes {

    @Override
    protected void routes() {
        from("{{etl.capture.source}}")
                .routeId("capture-changes")
                .autoStartup("{{etl.capture.enabled}}")
                .process(new ChangeEventMapper())
                .toD("{{etl.capture.sink}}")
                .process(metrics::captured)
                .filter(header(DebeziumConstants.HEADER_OPERATION).isEqualTo("d"))
                    .setBody(constant(null))
                    .toD("{{etl.capture.sink}}")
                .end();
    }
}
