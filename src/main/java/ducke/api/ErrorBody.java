package ducke.api;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one error body of every non-2xx JSON response:
 * {@code {"code": 429, "error": "rate_limit_exceeded", "message": "...", ...details}}.
 */
@JsonPropertyOrder({"code", "error", "message"})
public final class ErrorBody {

    private final int code;
    private final String error;
    private final String message;
    private final Map<String, Object> details;

    public ErrorBody(int code, String error, String message, Map<String, Object> details) {
        this.code = code;
        this.error = error;
        this.message = message;
        this.details = details == null ? Map.of() : new LinkedHashMap<>(details);
    }

    @JsonProperty("code")
    public int getCode() {
        return code;
    }

    @JsonProperty("error")
    public String getError() {
        return error;
    }

    @JsonProperty("message")
    public String getMessage() {
        return message;
    }

    @JsonAnyGetter
    public Map<String, Object> getDetails() {
        return details;
    }
}
