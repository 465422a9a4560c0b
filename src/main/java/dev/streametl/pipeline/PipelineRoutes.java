package dev.streametl.pipeline;

import com.fasterxml.jackson.core.JacksonException;
import dev.streametl.observe.PipelineMetrics;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.common.errors.RebalanceInProgressException;

/**
 * Error handling shared by every stage of the pipeline, so that no record is ever dropped:
 * <ul>
 * <li>a record that can never be processed (not JSON, missing row, wrong types, unknown operation) goes to the dead
 * letter endpoint ({@code etl.dead-letter.sink}) with the reason, and the pipeline goes on;</li>
 * <li>any other failure (a sink down, a timeout) is taken as transient: the failed step is retried with exponential
 * backoff until it works, so an outage stalls the pipeline and loses nothing.</li>
 * </ul>
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
        errorHandler(defaultErrorHandler()
                .maximumRedeliveries(-1)
                .redeliveryDelay(500)
                .useExponentialBackOff()
                .backOffMultiplier(2)
                .maximumRedeliveryDelay(30_000)
                .onRedelivery(exchange -> metrics.retried(exchange))
                .logRetryAttempted(true)
                .retryAttemptedLogLevel(LoggingLevel.WARN)
                .retryAttemptedLogInterval(1));

        // a batch that took longer than max.poll.interval.ms (an ES outage, say): Kafka has given its partitions to
        // another consumer, so its offsets can never be committed from here. Retrying would keep this consumer from
        // polling, and so from rejoining, forever; dropping the commit lets the partitions' new owner load the batch
        // again from the last committed offsets (at least once, and every write carries its version). The same for a
        // rebalance in progress: it cannot end before this consumer polls again, so retrying the commit only holds it
        // up (for up to max.poll.interval.ms, after which the group goes on without this consumer)
        onException(CommitFailedException.class, RebalanceInProgressException.class)
                .maximumRedeliveries(0)
                .handled(true)
                .logExhausted(false)
                .log(LoggingLevel.WARN, "Offsets of a batch in ${routeId} not committed: its consumer group was"
                        + " rebalanced while it was processed (${exception.message}); it will be loaded again");

        onException(InvalidRecordException.class, JacksonException.class)
                .maximumRedeliveries(0) // retrying cannot fix a malformed record
                .handled(true)
                .useOriginalMessage()
                .logExhausted(false)
                .log(LoggingLevel.WARN, "Dead letter from ${exchangeProperty.CamelFailureRouteId}: ${exception.message}")
                .process(DeadLetter::describe)
                .to(DEAD_LETTER);

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
