package dev.streametl.pipeline;

/**
 * A record the pipeline cannot process: retrying will not help, so it goes to the dead letter topic.
 */
public class InvalidRecordException extends RuntimeException {

    public InvalidRecordException(String message) {
        super(message);
    }

    public InvalidRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
