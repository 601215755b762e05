package ducke.http;

import ducke.api.ErrorBody;
import ducke.errors.ErrorWords;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Map;

/**
 * Bounds request bodies: a declared length over the limit is refused with 413 before anything
 * reads it, and a body without a declared length is cut at the limit (it then fails to parse).
 * Whatever the application left unread is drained afterwards, so that a request answered early
 * (401, 429, 404) does not cost the client its keep-alive connection.
 */
public final class RequestBodyFilter implements Filter {

    private final long maxBytes;
    private final ErrorResponses errors;

    public RequestBodyFilter(long maxBytes, ErrorResponses errors) {
        this.maxBytes = maxBytes;
        this.errors = errors;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        if (request.getContentLengthLong() > maxBytes) {
            HttpServletResponse response = (HttpServletResponse) res;
            response.setHeader("Connection", "close");
            errors.write(response, new ErrorBody(413, ErrorWords.INVALID_REQUEST,
                    "Request body is larger than " + maxBytes + " bytes", Map.of("max_body_bytes", maxBytes)), Map.of());
            return;
        }
        Bounded bounded = new Bounded(request, maxBytes);
        try {
            chain.doFilter(bounded, res);
        } finally {
            bounded.drain();
        }
    }

    /** The request with its body stream cut at the limit. */
    private static final class Bounded extends HttpServletRequestWrapper {
        private final long maxBytes;
        private ServletInputStream stream;

        Bounded(HttpServletRequest request, long maxBytes) {
            super(request);
            this.maxBytes = maxBytes;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                stream = new Limited(super.getInputStream(), maxBytes);
            }
            return stream;
        }

        void drain() {
            if (isAsyncStarted() || getContentLengthLong() == 0) {
                return;
            }
            try {
                ServletInputStream in = getInputStream();
                byte[] buf = new byte[4096];
                while (!in.isFinished() && in.read(buf) >= 0) {
                    // discard
                }
            } catch (IOException | IllegalStateException e) {
                // the connection is closing or the body was read as a reader: nothing to drain
            }
        }
    }

    private static final class Limited extends ServletInputStream {
        private final ServletInputStream in;
        private long left;

        Limited(ServletInputStream in, long maxBytes) {
            this.in = in;
            this.left = maxBytes;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        @Override
        public boolean isFinished() {
            return left <= 0 || in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
