package dev.streametl.routes;

import com.fasterxml.jackson.core.JacksonException;
import dev.streametl.observe.PipelineMetrics;
import dev.streametl.pipeline.DeadLetter;
import dev.streametl.pipeline.InvalidRecordException;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.apache.camel.model.RouteConfigurationDefinition;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.common.errors.RebalanceInProgressException;

/**
 * How every route of the pipeline handles a failure, so that no record is ever dropped (a route configuration with no
 * id: Camel applies it to every route):
 * <ul>
 * <li>a record that can never be processed (not JSON, missing row, wrong types, unknown operation) goes to the dead
 * letter endpoint ({@code etl.dead-letter.sink}) with the reason, and the pipeline goes on;</li>
 * <li>any other failure (a sink down, a timeout) is taken as transient: the failed step is retried with exponential
 * backoff until it works, so an outage stalls the pipeline and loses nothing.</li>
 * </ul>
 */
public class ErrorHandling extends RouteConfigurationBuilder {

    @Override
    public void configuration() {
        PipelineMetrics metrics = PipelineBeans.of(getContext(), PipelineBeans.METRICS, PipelineMetrics.class);
        RouteConfigurationDefinition every = routeConfiguration();
        every.errorHandler(defaultErrorHandler()
                        .maximumRedeliveries(-1)
                        .redeliveryDelay(500)
                        .useExponentialBackOff()
                        .backOffMultiplier(2)
                        .maximumRedeliveryDelay(30_000)
                        .onRedelivery(metrics::retried)
                        .logRetryAttempted(true)
                        .retryAttemptedLogLevel(LoggingLevel.WARN)
                        .retryAttemptedLogInterval(1));

        // a batch that took longer than max.poll.interval.ms (an ES outage, say): Kafka has given its partitions to
        // another consumer, so its offsets can never be committed from here. Retrying would keep this consumer from
        // polling, and so from rejoining, forever; dropping the commit lets the partitions' new owner load the batch
        // again from the last committed offsets (at least once, and every write carries its version). The same for a
        // rebalance in progress: it cannot end before this consumer polls again, so retrying the commit only holds it
        // up (for up to max.poll.interval.ms, after which the group goes on without this consumer)
        every.onException(CommitFailedException.class, RebalanceInProgressException.class)
                .maximumRedeliveries(0)
                .handled(true)
                .logExhausted(false)
                .log(LoggingLevel.WARN, "Offsets of a batch in ${routeId} not committed: its consumer group was"
                        + " rebalanced while it was processed (${exception.message}); it will be loaded again");

        every.onException(InvalidRecordException.class, JacksonException.class)
                .maximumRedeliveries(0) // retrying cannot fix a malformed record
                .handled(true)
                .useOriginalMessage()
                .logExhausted(false)
                .log(LoggingLevel.WARN, "Dead letter from ${exchangeProperty.CamelFailureRouteId}: ${exception.message}")
                .process(DeadLetter::describe)
                .to(PipelineRoutes.DEAD_LETTER);
    }
}
