package ducke.tasks;

/**
 * Thrown by a task for bad parameters. {@link JournaledTask} catches it, so that Dropwizard's task
 * servlet neither logs a stack trace nor prints one into the answer, and notes the refusal for the
 * running request; {@link TaskAnswerFilter} then answers 400 with the error body. The note lives in
 * a thread-local for the duration of one request on the servlet thread.
 */
public final class BadTaskInput extends IllegalArgumentException {

    private static final ThreadLocal<String> REFUSED = new ThreadLocal<>();

    private BadTaskInput(String message) {
        super(message, null);
    }

    /** The exception for bad input; throw the result. Echoed input cannot break the log line it lands in. */
    public static BadTaskInput reject(String message) {
        return new BadTaskInput(printable(message));
    }

    /**
     * {@code s} with every control or formatting character (CR, LF, ESC, NUL, bidi overrides, line
     * separators) as {@code ?}: task input is logged and journaled, and must not forge lines there.
     */
    static String printable(String s) {
        if (s == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR
                ? '?' : c));
        return b.toString();
    }

    /** Notes that the running request was refused, with the reason. */
    static void refused(String message) {
        REFUSED.set(message);
    }

    /** The reason the running request was refused, or null. */
    static String refusal() {
        return REFUSED.get();
    }

    static void clear() {
        REFUSED.remove();
    }
}
