package ducke.errors;

import ducke.api.ErrorBody;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;

import java.util.List;
import java.util.Map;

/** Bean Validation failures on request bodies and parameters: 422 listing what was wrong. */
public final class ConstraintViolationExceptionMapper implements ExceptionMapper<ConstraintViolationException> {
    @Override
    public Response toResponse(ConstraintViolationException e) {
        List<String> problems = e.getConstraintViolations().stream()
                .map(ConstraintViolationExceptionMapper::describe).sorted().toList();
        return Response.status(422).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ErrorBody(422, ErrorWords.INVALID_REQUEST, "Request is not valid: " + String.join("; ", problems),
                        Map.of("errors", problems)))
                .build();
    }

    private static String describe(ConstraintViolation<?> v) {
        String path = v.getPropertyPath().toString();
        int dot = path.lastIndexOf('.');
        return (dot >= 0 ? path.substring(dot + 1) : path) + " " + v.getMessage();
    }
}
