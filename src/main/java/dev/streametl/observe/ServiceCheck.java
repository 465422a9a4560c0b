package dev.streametl.observe;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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

    /**
     * Where the probes run: a probe that a client holds up longer than its own timeouts (a connection pool, a close
     * waiting on a server that is away) must not hold up the health endpoint with it.
     */
    private static final ExecutorService PROBES = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "health-probe");
        thread.setDaemon(true);
        return thread;
    });
    /** How much longer than its timeout a probe may take before the check gives up on it. */
    private static final long GRACE_MILLIS = 1_000;

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        long startNanos = System.nanoTime();
        HealthCheckResultBuilder probed = HealthCheckResultBuilder.on(this); // its details, copied once it has finished
        Future<String> probe = PROBES.submit(() -> probe(probed));
        try {
            String answer;
            try {
                answer = probe.get(timeout.toMillis() + GRACE_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                probe.cancel(true);
                throw new Unfit("no answer within " + (timeout.toMillis() + GRACE_MILLIS) + " ms");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
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
            if (probe.isDone() && !probe.isCancelled()) { // a probe given up on may still be writing to its details
                builder.details(probed.unknown().build().getDetails());
            }
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
