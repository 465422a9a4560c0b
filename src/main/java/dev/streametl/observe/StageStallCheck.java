package dev.streametl.observe;

import java.time.Duration;
import java.util.Map;

import dev.streametl.pipeline.CapturePublications;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.spi.InflightRepository;

/**
 * No stage stalls silently. A stage that cannot finish a record or a batch (a server away for long, a write retried
 * again and again) keeps it in flight: DOWN, naming the route, once one exchange has been in flight for longer than
 * {@code etl.health.stall-after-ms}, with its retries and last failure. The capture is DOWN too when Debezium's offsets
 * have not been saved for that long while changes wait for Kafka's acknowledgement (the replication slot then cannot
 * move on). A readiness check: the stage goes on by itself once the cause is gone, and this turns UP again.
 */
public final class StageStallCheck extends AbstractHealthCheck {

    private final Duration stallAfter;
    private final String offsetsFile;

    public StageStallCheck(Duration stallAfter, String offsetsFile) {
        super("stages", "stages");
        this.stallAfter = stallAfter;
        this.offsetsFile = offsetsFile;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        InflightRepository inflight = getCamelContext().getInflightRepository();
        for (Route route : getCamelContext().getRoutes()) {
            InflightRepository.InflightExchange oldest = inflight.oldest(route.getRouteId());
            if (oldest != null && oldest.getDuration() > stallAfter.toMillis()) {
                builder.down().message("stage " + route.getRouteId() + " has been on one " + what(oldest) + " for "
                        + oldest.getDuration() / 1000 + " s" + lastFailure(oldest.getExchange()));
                builder.detail("stalled.route", route.getRouteId());
                return;
            }
        }
        CapturePublications publications = offsetsFile == null ? null : CapturePublications.of(offsetsFile);
        if (publications != null) {
            long unsavedMillis = publications.millisSinceLastSave();
            builder.detail("capture.unacknowledged", publications.inFlight());
            if (publications.inFlight() > 0 && unsavedMillis > stallAfter.toMillis()) {
                builder.down().message("stage capture-changes: " + publications.inFlight() + " changes not acknowledged by"
                        + " Kafka, and Debezium's offsets not saved, for " + unsavedMillis / 1000 + " s");
                return;
            }
        }
        builder.up();
    }

    private static String what(InflightRepository.InflightExchange oldest) {
        return oldest.getExchange().getMessage().getBody() instanceof java.util.List<?> ? "batch" : "record";
    }

    private static String lastFailure(Exchange exchange) {
        Integer retries = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, Integer.class);
        Throwable failure = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String text = retries == null || retries == 0 ? "" : ", " + retries + " retries";
        return failure == null ? text : text + ", last failure: " + ServiceCheck.reason(failure);
    }
}
