package ducke.errors;

import com.fasterxml.jackson.core.JsonProcessingException;
import ducke.api.ErrorBody;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;

import java.util.Map;

/**
 * Unparseable or wrongly typed JSON bodies: 400 without echoing parser internals. When reading the
 * body itself failed (too large, malformed framing), Jackson may have wrapped that
 * {@link ApiException}; it is answered as itself.
 */
public final class JsonProcessingExceptionMapper implements ExceptionMapper<JsonProcessingException> {
    @Override
    public Response toResponse(JsonProcessingException e) {
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof ApiException api) {
                return new ApiExceptionMapper().toResponse(api);
            }
        }
        String message = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field")
                // a key given twice is read differently by different parsers: refused, and said so
                ? "Request body names a field twice; send each field once"
                : "Request body is not valid JSON of the expected shape";
        return Response.status(400).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ErrorBody(400, ErrorWords.INVALID_REQUEST, message, Map.of()))
                .build();
    }
}
