package ducke.tasks;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

import java.io.IOException;

/**
 * Lets admin tasks refuse bad parameters with 400 instead of Dropwizard's 500. A task throws
 * {@link #reject}; Dropwizard's task servlet still catches it and prints its message, and this
 * filter (on {@code /tasks/*} of the admin port) turns the status it sets into 400.
 * The flag lives in a thread-local for the duration of one request on the servlet thread.
 */
public final class BadTaskInput extends IllegalArgumentException {

    private static final ThreadLocal<Boolean> REJECTED = new ThreadLocal<>();

    private BadTaskInput(String message) {
        super(message);
    }

    /** Marks the running request as bad input; throw the result. */
    public static BadTaskInput reject(String message) {
        REJECTED.set(Boolean.TRUE);
        return new BadTaskInput(message);
    }

    /** The admin-port filter that answers rejected task input with 400. */
    public static final class StatusFilter implements Filter {
        @Override
        public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
            REJECTED.remove();
            try {
                chain.doFilter(req, new HttpServletResponseWrapper((HttpServletResponse) res) {
                    @Override
                    public void setStatus(int sc) {
                        super.setStatus(sc == 500 && Boolean.TRUE.equals(REJECTED.get()) ? 400 : sc);
                    }
                });
            } finally {
                REJECTED.remove();
            }
        }
    }
}
