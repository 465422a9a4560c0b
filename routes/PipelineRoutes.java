package dev.streametl.routes;

import dev.streametl.observe.PipelineMetrics;
import dev.streametl.pipeline.ElasticsearchBulk;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.Processor;

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
        metrics = bean(PipelineBeans.METRICS, PipelineMetrics.class);
        routes();
        getRouteCollection().getRoutes().forEach(route -> metrics.watchStage(getContext(), route.getRouteId()));
    }

    /**
     * A route from the template {@code ElasticsearchRoutes#BULK_WRITE}: a batch from {@code source} written to the
     * {@code elasticsearch} endpoint in bulks, followed to the end (see {@link ElasticsearchBulk}). {@code documents}
     * starts the bulk from the batch ({@code ElasticsearchBulk::ofEnrichedOrders} for instance), {@code written} takes
     * the batch once Elasticsearch has every document or has refused it for good.
     */
    protected void writeInBulk(String routeId, String source, Processor documents, String elasticsearch, Processor written) {
        templatedRoute(ElasticsearchRoutes.BULK_WRITE)
                .routeId(routeId)
                .parameter("source", source)
                .parameter("elasticsearch", elasticsearch)
                .bean("documents", Processor.class, context -> documents)
                .bean("written", Processor.class, context -> written);
        metrics.watchStage(getContext(), routeId); // a templated route is not among this builder's routes
    }

    /** A bean the stages share ({@link PipelineBeans}). */
    protected <T> T bean(String name, Class<T> type) {
        return PipelineBeans.of(getContext(), name, type);
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
