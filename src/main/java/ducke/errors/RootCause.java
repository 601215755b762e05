package ducke.errors;

/** The innermost cause of a failure, for a log line: a wrapped TLS, HTTP or SQL failure says what went wrong there. */
public final class RootCause {

    private RootCause() {
    }

    /** The innermost cause as {@code Type: message} ({@code Type} alone when it has no message). */
    public static String of(Throwable error) {
        Throwable t = error;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
