package dev.streametl.observe;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A readiness check of a server the pipeline needs: DOWN, with the reason, while it cannot be reached, UP again as
 * soon as it answers. Readiness only, not liveness: restarting the pipeline would not bring the server back, and the
 * pipeline waits for it by itself (every write is retried until it works).
 */
abstract class ServiceCheck extends AbstractHealthCheck {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceCheck.class);

    protected final Duration timeout;
    /** Why the last check was DOWN; null while UP: a change is logged once, not at every check. */
    private volatile String lastDown;

    ServiceCheck(String id, Duration timeout) {
        super("services", id);
        this.timeout = timeout;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        long startNanos = System.nanoTime();
        try {
            String answer = probe(builder);
            builder.up().message(answer);
            if (lastDown != null) {
                LOG.info("{} is UP again: {}", getId(), answer);
                lastDown = null;
            }
        } catch (Unfit e) {
            down(builder.down().message(getId() + ": " + e.getMessage()), getId() + ": " + e.getMessage());
        } catch (Exception e) {
            String message = getId() + " cannot be reached: " + reason(e);
            down(builder.down().message(message).error(e), message);
        } finally {
            builder.detail("check.duration.ms", (System.nanoTime() - startNanos) / 1_000_000);
        }
    }

    private void down(HealthCheckResultBuilder builder, String message) {
        if (!message.equals(lastDown)) {
            LOG.warn("Health DOWN: {}", message);
            lastDown = message;
        }
    }

    /** Asks the server whether it can serve; returns what it said, throws when it cannot be reached or is unfit. */
    protected abstract String probe(HealthCheckResultBuilder builder) throws Exception;

    /** The server answered, but cannot serve the pipeline (a red cluster, a capture that does not stream). */
    static final class Unfit extends Exception {
        Unfit(String message) {
            super(message, null, false, false);
        }
    }

    /** The first message along the causes (ExecutionException unwrapped), or the name of the error if none has one. */
    static String reason(Throwable error) {
        Throwable outer = error instanceof ExecutionException && error.getCause() != null ? error.getCause() : error;
        for (Throwable cause = outer; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause.getMessage() != null && !cause.getMessage().isBlank()) {
                return cause.getClass().getSimpleName() + ": " + cause.getMessage();
            }
        }
        return outer.getClass().getSimpleName();
    }
}
