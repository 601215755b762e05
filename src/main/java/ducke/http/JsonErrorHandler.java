package ducke.http;

import ducke.api.ErrorBody;
import ducke.errors.ErrorWords;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Errors Jetty answers itself (malformed requests, oversized headers, unknown contexts) in the one
 * JSON error body, never an HTML page or a stack trace.
 */
public final class JsonErrorHandler extends ErrorHandler {

    private final ErrorResponses errors;

    public JsonErrorHandler(ErrorResponses errors) {
        this.errors = errors;
        setShowStacks(false);
    }

    /** Every method gets the error body, not only GET, POST and HEAD (Jetty's default). */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) throws IOException {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body(code, message)), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        try {
            return ByteBuffer.wrap(body(status, reason));
        } catch (IOException e) {
            return ByteBuffer.allocate(0);
        }
    }

    private byte[] body(int code, String message) throws IOException {
        String text = message == null || message.isBlank() ? HttpStatus.getMessage(code) : message;
        return errors.bytes(new ErrorBody(code, ErrorWords.forStatus(code), text, Map.of()));
    }
}
