package dev.streametl.pipeline;

import java.util.function.Supplier;

/**
 * Where a failure happens decides what becomes of it. Whatever the pipeline's own code throws while it reads, joins or
 * shapes one record is that record's fault: retrying cannot help, so the record goes to the dead letter topic with
 * the reason, and its stage goes on. Only a failure of a server the pipeline talks to (a send, a search, a commit) is
 * retried. The record-level steps run through {@link #guard}, which turns any error of theirs into an
 * {@link InvalidRecordException}, the one type the stages dead-letter.
 */
public final class RecordFault {

    private RecordFault() {
    }

    /** Runs a step of the pipeline's own code on one record; any error it throws is the record's fault. */
    public static <T> T guard(Supplier<T> step) {
        try {
            return step.get();
        } catch (InvalidRecordException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            throw new InvalidRecordException(DeadLetter.reason(e), e);
        }
    }

    /** {@link #guard(Supplier)} for a step that returns nothing. */
    public static void guard(Runnable step) {
        guard(() -> {
            step.run();
            return null;
        });
    }
}
