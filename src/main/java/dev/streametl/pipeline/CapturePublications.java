package dev.streametl.pipeline;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.camel.Exchange;

/**
 * The captured changes handed to the change topics and not acknowledged by Kafka yet. The capture stage does not wait
 * for each send (a Kafka round trip per change would bound capture at a few thousand changes per second): it hands
 * each change over and goes on. Debezium, though, counts a change as done as soon as the capture route returns, and
 * would save its offset at the next flush. So the offset store ({@link AcknowledgedOffsetStore}) waits, before every
 * save, until Kafka has acknowledged every change handed over: a saved offset never covers an unsent change, and a
 * crash replays, never skips (at least once).
 * <p>
 * One instance per Debezium offsets file (the store is made by Debezium, which knows nothing of Camel): the capture
 * route opens it at start-up, the store finds it by the file it writes.
 */
public final class CapturePublications {

    private static final Map<Path, CapturePublications> BY_OFFSETS_FILE = new ConcurrentHashMap<>();

    private final AtomicLong inFlight = new AtomicLong();
    private volatile long lastSavedMillis = System.currentTimeMillis();

    private CapturePublications() {
    }

    /** A new count for the capture that saves its offsets in this file (the count of an earlier run is dropped). */
    public static CapturePublications open(String offsetsFile) {
        CapturePublications publications = new CapturePublications();
        BY_OFFSETS_FILE.put(key(offsetsFile), publications);
        return publications;
    }

    /** The count of the capture saving its offsets in this file; null when no capture route writes them. */
    public static CapturePublications of(String offsetsFile) {
        return BY_OFFSETS_FILE.get(key(offsetsFile));
    }

    private static Path key(String offsetsFile) {
        return Path.of(offsetsFile).toAbsolutePath().normalize();
    }

    /** A change is handed over to be sent (called before the hand-over, on the capture thread). */
    public void handedOver(Exchange exchange) {
        inFlight.incrementAndGet();
    }

    /** Kafka has acknowledged a change handed over. */
    public void acknowledged(Exchange exchange) {
        if (inFlight.decrementAndGet() == 0) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    public long inFlight() {
        return inFlight.get();
    }

    /** Debezium's offsets have just been saved. */
    void saved() {
        lastSavedMillis = System.currentTimeMillis();
    }

    /** How long ago Debezium's offsets were last saved (or this capture started). */
    public long millisSinceLastSave() {
        return System.currentTimeMillis() - lastSavedMillis;
    }

    /** Waits until every change handed over so far is acknowledged; fails after {@code timeout}. */
    public void awaitAcknowledged(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(inFlight.get() + " captured changes not acknowledged by Kafka within "
                            + timeout.toSeconds() + " s: their offsets are not saved");
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }
    }
}
