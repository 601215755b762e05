package ducke.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code /metrics} in the Prometheus text format 0.0.4: the registry, followed by the gauges whose
 * names the client library refuses (a gauge may not end in {@code _total}) but existing dashboards
 * of the original service query, such as {@code active_sessions_total}.
 */
public final class MetricsServlet extends HttpServlet {

    private final transient GuardMetrics metrics;

    public MetricsServlet(GuardMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
        new PrometheusTextFormatWriter(false).write(body, metrics.registry().scrape());
        StringBuilder legacy = new StringBuilder();
        metrics.legacyGauges().forEach((name, gauge) -> legacy
                .append("# HELP ").append(name).append(' ').append(gauge.help()).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(gauge.value().getAsDouble()).append('\n'));
        body.write(legacy.toString().getBytes(StandardCharsets.UTF_8));
        resp.setStatus(200);
        resp.setContentType(PrometheusTextFormatWriter.CONTENT_TYPE);
        resp.setContentLength(body.size());
        body.writeTo(resp.getOutputStream());
    }
}
