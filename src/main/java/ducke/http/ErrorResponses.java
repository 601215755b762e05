package ducke.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import ducke.api.ErrorBody;
import ducke.errors.ApiException;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Map;

/** Writes the one error body from servlet code that runs outside Jersey (filters, error handlers). */
public final class ErrorResponses {

    private final ObjectMapper mapper;

    public ErrorResponses(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public void write(HttpServletResponse response, ApiException e) throws IOException {
        write(response, e.body(), e.headers());
    }

    public void write(HttpServletResponse response, ErrorBody body, Map<String, String> headers) throws IOException {
        response.setStatus(body.getCode());
        headers.forEach(response::setHeader);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.getOutputStream().write(mapper.writeValueAsBytes(body));
    }

    public byte[] bytes(ErrorBody body) throws IOException {
        return mapper.writeValueAsBytes(body);
    }
}
