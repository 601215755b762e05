package ducke.http;

import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.ContainerLifeCycle;

import java.nio.charset.StandardCharsets;

/**
 * Hands the access log a request whose query it can decode. logback-access decodes every request's
 * query parameters while it prepares the log event; for a query that is not valid percent-encoding
 * ({@code ?%zz}, {@code ?a=%C0}) that throws, and the request, which the node refused with 400,
 * vanished from the access log: a prober could hide every request that way. Such a query is logged
 * with its {@code %} signs escaped as {@code %25}, so the line still shows what was sent.
 * Everything else reaches the access log unchanged.
 */
public final class DecodableQueryRequestLog extends ContainerLifeCycle implements RequestLog {

    private final RequestLog delegate;

    public DecodableQueryRequestLog(RequestLog delegate) {
        this.delegate = delegate;
        addBean(delegate); // started and stopped with this, as the server did with it
    }

    /** Wraps the server's request log, if it has one and it is not wrapped yet; call before the server starts. */
    public static void install(Server server) {
        RequestLog log = server.getRequestLog();
        if (log != null && !(log instanceof DecodableQueryRequestLog)) {
            server.setRequestLog(new DecodableQueryRequestLog(log));
        }
    }

    @Override
    public void log(Request request, Response response) {
        delegate.log(decodable(request), response);
    }

    /** {@code request} itself when its query decodes (or it has none); else the same request with an escaped query. */
    static Request decodable(Request request) {
        HttpURI uri = request.getHttpURI();
        String query = uri == null ? null : uri.getQuery();
        if (query == null || query.indexOf('%') < 0) {
            return request; // nothing to decode, nothing that can fail
        }
        try {
            Request.extractQueryParameters(request, StandardCharsets.UTF_8);
            return request;
        } catch (RuntimeException undecodable) {
            HttpURI escaped = HttpURI.build(uri).query(query.replace("%", "%25")).asImmutable();
            return new Request.Wrapper(request) {
                @Override
                public HttpURI getHttpURI() {
                    return escaped;
                }
            };
        }
    }
}
