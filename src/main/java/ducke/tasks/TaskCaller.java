package ducke.tasks;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Who runs the task of the current request, for the admin journal: the peer address, and whether
 * it presented a token (on an admin port beyond loopback, {@link OperatorTokenFilter} has checked
 * it is the operator's) or reached a loopback-only port. Set by {@link TaskAnswerFilter} for the
 * duration of one request on the servlet thread.
 */
final class TaskCaller {

    private static final ThreadLocal<String> CALLER = new ThreadLocal<>();

    private TaskCaller() {
    }

    static void set(HttpServletRequest request) {
        boolean token = request.getHeader("Authorization") != null;
        CALLER.set((token ? "operator token" : "no token") + " from " + request.getRemoteAddr());
    }

    /** The caller of the running task; "unknown" outside a request. */
    static String get() {
        String c = CALLER.get();
        return c == null ? "unknown" : c;
    }

    static void clear() {
        CALLER.remove();
    }
}
