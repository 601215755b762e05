package ducke.http;

import ducke.api.ErrorBody;
import ducke.core.identity.Cidr;
import ducke.core.identity.IpAddresses;
import ducke.errors.ErrorWords;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code /metrics} answers only direct peers in {@code metrics.allowFrom}; forwarded headers are ignored. */
public final class MetricsAccessFilter implements Filter {

    private final List<Cidr> allowed;
    private final ErrorResponses errors;

    public MetricsAccessFilter(List<Cidr> allowed, ErrorResponses errors) {
        this.allowed = List.copyOf(allowed);
        this.errors = errors;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        Optional<InetAddress> peer = IpAddresses.parse(req.getRemoteAddr());
        if (peer.isPresent() && allowed.stream().anyMatch(c -> c.contains(peer.get()))) {
            chain.doFilter(req, res);
            return;
        }
        errors.write((HttpServletResponse) res,
                new ErrorBody(403, ErrorWords.FORBIDDEN, "Metrics are not served to this network", Map.of()), Map.of());
    }
}
