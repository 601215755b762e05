package ducke.http;

import ducke.errors.ApiException;
import ducke.errors.ErrorWords;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;

import java.io.IOException;
import java.util.Map;

/**
 * A request body stream that holds at most {@code maxBytes}: reading past the limit fails with
 * 413 (also for chunked bodies, which declare no length), and a body the server cannot read
 * (broken chunked framing, content that is not the gzip it claims to be) fails with 400. The
 * failures are {@link ApiException}s, so the JSON reader lets them through to their mapper.
 */
final class BoundedBody extends ServletInputStream {

    private final ServletInputStream in;
    private final long maxBytes;
    private long left;

    BoundedBody(ServletInputStream in, long maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
        this.left = maxBytes;
    }

    @Override
    public int read() throws IOException {
        if (left <= 0) {
            return requireEnd();
        }
        int b = guarded(in::read);
        if (b >= 0) {
            left--;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (left <= 0) {
            return requireEnd();
        }
        int n = guarded(() -> in.read(b, off, (int) Math.min(len, left)));
        if (n > 0) {
            left -= n;
        }
        return n;
    }

    /** At the limit: the body must end here. */
    private int requireEnd() throws IOException {
        if (guarded(in::read) < 0) {
            return -1;
        }
        left = 0;
        throw new ApiException(413, ErrorWords.INVALID_REQUEST, "Request body is larger than " + maxBytes + " bytes",
                Map.of("max_body_bytes", maxBytes), Map.of("Connection", "close"));
    }

    @Override
    public boolean isFinished() {
        return in.isFinished();
    }

    @Override
    public boolean isReady() {
        return in.isReady();
    }

    @Override
    public void setReadListener(ReadListener listener) {
        in.setReadListener(listener);
    }

    private interface Read {
        int read() throws IOException;
    }

    /** One read of the container's stream, with its failures turned into 400. */
    private static int guarded(Read read) {
        try {
            return read.read();
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiException api) {
                throw api;
            }
            throw new ApiException(400, ErrorWords.INVALID_REQUEST,
                    "Request body could not be read: malformed chunked framing or compressed content",
                    Map.of(), Map.of("Connection", "close"));
        }
    }
}
