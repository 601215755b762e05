package ducke.tasks;

import ducke.api.ErrorBody;
import ducke.errors.ErrorWords;
import ducke.http.ErrorResponses;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/**
 * On {@code /tasks/*} of the admin port: a task's text answer passes through unchanged; a refused
 * one ({@link BadTaskInput}) becomes 400 with the one JSON error body, and a failed one 500 with
 * the error body instead of the stack trace Dropwizard's task servlet would print into it. The
 * task's answer is buffered (it is a line or two) until the outcome is known.
 */
public final class TaskAnswerFilter implements Filter {

    private final ErrorResponses errors;

    public TaskAnswerFilter(ErrorResponses errors) {
        this.errors = errors;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletResponse response = (HttpServletResponse) res;
        if (!parametersReadable(req)) {
            response.setHeader("Connection", "close");
            errors.write(response, new ErrorBody(400, ErrorWords.INVALID_REQUEST, "Task parameters could not be read: "
                    + "use a query string such as ?client=203.0.113.7 (percent-encoded)", Map.of()), Map.of());
            return;
        }
        Buffered buffered = new Buffered(response);
        BadTaskInput.clear();
        TaskCaller.set((jakarta.servlet.http.HttpServletRequest) req);
        try {
            chain.doFilter(req, buffered);
            if (buffered.direct) {
                return;
            }
            String refusal = BadTaskInput.refusal();
            if (refusal != null) {
                errors.write(response, new ErrorBody(400, ErrorWords.INVALID_REQUEST, refusal, Map.of()), Map.of());
            } else if (buffered.status >= 400) {
                errors.write(response, new ErrorBody(buffered.status, ErrorWords.forStatus(buffered.status),
                        failure(buffered.status, buffered.text()), Map.of()), Map.of());
            } else {
                response.setStatus(buffered.status);
                response.setContentType("text/plain;charset=UTF-8");
                response.getWriter().write(buffered.text());
            }
        } finally {
            BadTaskInput.clear();
            TaskCaller.clear();
        }
    }

    /**
     * Reads the parameters before the task servlet does: a malformed query string or form body
     * would otherwise fail inside it, as a 500 with a stack trace in the log.
     */
    private static boolean parametersReadable(ServletRequest req) {
        try {
            req.getParameterMap();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String failure(int status, String text) {
        return switch (status) {
            case 404 -> "No such task";
            case 405 -> "Tasks are run with POST";
            default -> "The task failed: " + text.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst()
                    .orElse("no reason given");
        };
    }

    /** Holds the task's status and text; errors sent by the servlet container pass straight through. */
    private static final class Buffered extends HttpServletResponseWrapper {
        private final StringWriter text = new StringWriter();
        private final PrintWriter writer = new PrintWriter(text);
        private int status = 200;
        private boolean direct;

        Buffered(HttpServletResponse response) {
            super(response);
        }

        String text() {
            writer.flush();
            return text.toString();
        }

        @Override
        public PrintWriter getWriter() {
            return writer;
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            direct = true;
            return super.getOutputStream();
        }

        @Override
        public void setStatus(int sc) {
            status = sc;
        }

        @Override
        public void sendError(int sc) throws IOException {
            direct = true;
            super.sendError(sc);
        }

        @Override
        public void sendError(int sc, String msg) throws IOException {
            direct = true;
            super.sendError(sc, msg);
        }

        @Override
        public void setContentType(String type) {
            // the answer's type is decided once the outcome is known
        }

        @Override
        public boolean isCommitted() {
            return direct && super.isCommitted();
        }

        @Override
        public void reset() {
            text.getBuffer().setLength(0);
            status = 200;
        }

        @Override
        public void resetBuffer() {
            text.getBuffer().setLength(0);
        }

        @Override
        public void flushBuffer() {
            writer.flush();
        }
    }
}
