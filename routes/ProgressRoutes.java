package dev.streametl.routes;

import dev.streametl.observe.PipelineProgress;

/**
 * Beside the stages, progress: every {@code etl.progress.interval-ms} one log line with what the pipeline has done
 * so far (captured, enriched, indexed, unmatched, dead-lettered), the current end-to-end lag, and, during the initial
 * snapshot, how far it has got. The same counts are meters on {@code /observe/metrics}.
 */
public class ProgressRoutes extends PipelineRoutes {

    @Override
    protected void routes() {
        PipelineProgress progress = bean(PipelineBeans.PROGRESS, PipelineProgress.class);

        from("{{etl.progress.source}}")
                .routeId("report-progress")
                .process(progress::report);
    }
}
