package ducke.core.ratelimit;

/** The shared store did not answer in time or failed; the caller decides whether to fail open. */
public class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
