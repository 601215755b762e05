package ducke.auth;

import ducke.api.ErrorBody;
import ducke.errors.ErrorWords;
import io.dropwizard.auth.UnauthorizedHandler;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;

/** A missing or wrong token: 401 with the error body and a Bearer challenge. */
public final class JsonUnauthorizedHandler implements UnauthorizedHandler {
    @Override
    public Response buildResponse(String prefix, String realm) {
        return Response.status(401)
                .header(HttpHeaders.WWW_AUTHENTICATE, prefix + " realm=\"" + realm + "\"")
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(new ErrorBody(401, ErrorWords.UNAUTHORIZED, "A valid bearer token is required", Map.of()))
                .build();
    }
}
