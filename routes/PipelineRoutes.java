package dev.streametl.routes;

import dev.streametl.observe.PipelineMetrics;
import dev.streametl.pipeline.BatchFence;
import dev.streametl.pipeline.ElasticsearchBulk;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ProcessorDefinition;

/**
 * What the routes of every stage share: the pipeline's meters, the bulk write to Elasticsearch, and settings read as
 * values. How a failure is handled (dead letter or retry) is the routes' configuration, {@code ErrorHandling}.
 */
public abstract class PipelineRoutes extends RouteBuilder {

    /**
     * Where a record the pipeline cannot process goes: a route of its own ({@code DeadLetterRoutes}), so that a failed
     * send to the dead letter endpoint is retried there like any other send, never given up, and every dead letter is
     * counted in one place.
     */
    public static final String DEAD_LETTER = "direct:dead-letter";

    /** The pipeline's meters (counts, bulk latency, end-to-end lag), shared by every stage. */
    protected PipelineMetrics metrics;

    @Override
    public final void configure() throws Exception {
        metrics = PipelineMetrics.of(getContext());
        routes();
        getRouteCollection().getRoutes().forEach(route -> metrics.watchStage(getContext(), route.getRouteId()));
    }

    /**
     * Appends a bulk write to the given endpoint, followed to the end (see {@link ElasticsearchBulk}): the items ES
     * cannot take now are sent again with backoff until written, the items it rejects go to the dead letter endpoint
     * with its reason. The bulk must have been started ({@code ElasticsearchBulk.ofEnrichedOrders} for instance).
     */
    protected void writeInBulk(ProcessorDefinition<?> route, String endpoint) {
        route.loopDoWhile(e -> ElasticsearchBulk.hasPending(e) && BatchFence.holds(e))
                    .filter(ElasticsearchBulk::isRetry)
                        .process(metrics::retried)
                    .end()
                    .delay(method(ElasticsearchBulk.class, "backoffMillis")).syncDelayed().end()
                    .setBody(method(ElasticsearchBulk.class, "operations"))
                    .doTry()
                        .process(metrics::bulkStarted)
                        .to(endpoint)
                        .process(metrics::bulkAnswered)
                        .process(ElasticsearchBulk::checkItems)
                    .doCatch(Exception.class) // not the error handler's retry: each attempt needs operations anew
                        .process(metrics::bulkFailed)
                        .process(ElasticsearchBulk::attemptFailed)
                    .end()
                .end()
                .split(method(ElasticsearchBulk.class, "rejected"))
                    .to(DEAD_LETTER)
                .end();
    }

    /** A setting a route needs as a value when it is built (a threshold, a wait), not as an endpoint. */
    protected String setting(String key) {
        return getContext().resolvePropertyPlaceholders("{{" + key + "}}");
    }

    /** The name of a topic the pipeline creates, from its setting ({@code etl.kafka.topic.*}: name, then options). */
    protected String topic(String key) {
        return setting(key).trim().split("\\s+")[0];
    }

    /** The routes of this stage. */
    protected abstract void routes() throws Exception;
}
