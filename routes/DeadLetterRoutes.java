package dev.streametl.routes;


/**
 * The dead letter endpoint ({@code etl.dead-letter.sink}) behind one route: what a stage cannot process comes here with
 * the reason in its headers ({@code etl.error}, ...), and a send that fails is retried with backoff until it works, as
 * every send of the pipeline is: a record is never dropped because the dead letter topic was away.
 */
public class DeadLetterRoutes extends PipelineRoutes {

    @Override
    protected void routes() {
        from(DEAD_LETTER)
                .routeId("dead-letter")
                .process(metrics::deadLettered) // before the send: a send that is retried is counted once
                .to("{{etl.dead-letter.sink}}");
    }
}
