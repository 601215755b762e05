package ducke.http;

import ducke.api.ErrorBody;
import ducke.errors.ErrorWords;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;

/**
 * Bounds and vets request bodies before anything reads them:
 * <ul>
 *   <li>a header that must come once ({@link SingleHeaders}) given twice gets 400;</li>
 *   <li>a transfer coding other than {@code chunked} gets 501, a content coding other than
 *       {@code gzip} (which Jetty inflates) or {@code identity} gets 415;</li>
 *   <li>a declared length over the limit gets 413 at once; a body without a declared length gets
 *       413 as soon as it grows past the limit ({@link BoundedBody});</li>
 *   <li>a body that cannot be read (broken chunking, content that is not the gzip it claims to
 *       be) gets 400, never 500.</li>
 * </ul>
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
        HttpServletResponse response = (HttpServletResponse) res;
        ErrorBody refusal = refusal(request);
        if (refusal != null) {
            // the body stays unread: the connection cannot be reused
            errors.write(response, refusal, Map.of("Connection", "close"));
            return;
        }
        Bounded bounded = new Bounded(request, maxBytes);
        try {
            chain.doFilter(bounded, res);
        } finally {
            bounded.drain();
        }
    }

    /** Why the request is refused before its body is read, or null. */
    private ErrorBody refusal(HttpServletRequest request) {
        String repeated = SingleHeaders.repeated(request);
        if (repeated != null) {
            return new ErrorBody(400, ErrorWords.INVALID_REQUEST, SingleHeaders.refusal(repeated), Map.of());
        }
        for (String coding : tokens(request, "Transfer-Encoding")) {
            if (!coding.equals("chunked")) {
                return new ErrorBody(501, ErrorWords.INVALID_REQUEST, "Transfer-Encoding '" + printable(coding)
                        + "' is not supported; send the body plain or chunked", Map.of());
            }
        }
        for (String coding : tokens(request, "Content-Encoding")) {
            if (!coding.equals("gzip") && !coding.equals("identity")) {
                return new ErrorBody(415, ErrorWords.INVALID_REQUEST, "Content-Encoding '" + printable(coding)
                        + "' is not supported; send the body plain or gzip", Map.of());
            }
        }
        if (request.getContentLengthLong() > maxBytes) {
            return new ErrorBody(413, ErrorWords.INVALID_REQUEST, "Request body is larger than " + maxBytes + " bytes",
                    Map.of("max_body_bytes", maxBytes));
        }
        return null;
    }

    private static Iterable<String> tokens(HttpServletRequest request, String header) {
        var values = request.getHeaders(header);
        if (values == null) {
            return Collections.emptyList();
        }
        return Collections.list(values).stream().flatMap(v -> Arrays.stream(v.split(",")))
                .map(t -> t.strip().toLowerCase(Locale.ROOT)).filter(t -> !t.isEmpty()).toList();
    }

    private static String printable(String s) {
        String safe = s.replaceAll("[^A-Za-z0-9._-]", "?");
        return safe.length() > 32 ? safe.substring(0, 32) + "…" : safe;
    }

    /** The request with its body stream bounded. */
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
                stream = new BoundedBody(super.getInputStream(), maxBytes);
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
            } catch (IOException | RuntimeException e) {
                // the connection is closing, the body is malformed or too large, or it was read as a
                // reader: nothing (more) to drain, and the answer has been given already
            }
        }
    }
}
