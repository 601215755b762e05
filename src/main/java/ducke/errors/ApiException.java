package ducke.errors;

import ducke.api.ErrorBody;

import java.util.LinkedHashMap;
import java.util.Map;

/** Thrown by resources; {@link ApiExceptionMapper} turns it into the error body and its headers. */
public class ApiException extends RuntimeException {

    private final int status;
    private final String error;
    private final Map<String, Object> details;
    private final Map<String, String> headers;

    public ApiException(int status, String error, String message) {
        this(status, error, message, Map.of(), Map.of());
    }

    public ApiException(int status, String error, String message, Map<String, Object> details,
                        Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.error = error;
        this.details = new LinkedHashMap<>(details);
        this.headers = new LinkedHashMap<>(headers);
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public ErrorBody body() {
        return new ErrorBody(status, error, getMessage(), details);
    }

    public static ApiException invalid(int status, String message) {
        return new ApiException(status, ErrorWords.INVALID_REQUEST, message);
    }
}
