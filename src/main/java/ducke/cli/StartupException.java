package ducke.cli;

/**
 * A start-up problem the operator can fix (a port in use, a missing audit database): its message
 * is printed alone, as one clear line, without a stack trace.
 */
public final class StartupException extends RuntimeException {

    public StartupException(String message) {
        super(message, null, false, false);
    }
}
