package ducke.errors;

import ducke.api.ErrorBody;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;

import java.util.Map;

/** Jersey's own errors (404, 405, 415, 401 from auth, 403 from roles …) in the one error body. */
public final class WebApplicationExceptionMapper implements ExceptionMapper<WebApplicationException> {
    @Override
    public Response toResponse(WebApplicationException e) {
        Response original = e.getResponse();
        int status = original.getStatus();
        String word = ErrorWords.forStatus(status);
        String message = word.equals(ErrorWords.INTERNAL_ERROR) ? "Internal server error" : Response.Status.fromStatusCode(status) == null
                ? "Request failed" : Response.Status.fromStatusCode(status).getReasonPhrase();
        Response.ResponseBuilder r = Response.status(status).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ErrorBody(status, word, message, Map.of()));
        original.getStringHeaders().forEach((name, values) -> {
            if (!name.equalsIgnoreCase("Content-Type") && !name.equalsIgnoreCase("Content-Length")) {
                values.forEach(v -> r.header(name, v));
            }
        });
        return r.build();
    }
}
