package ducke.health;

import com.codahale.metrics.health.HealthCheck;
import ducke.config.UpstreamFactory;

/** Whether the upstream is configured well enough to relay sessions; it is not called. */
public final class UpstreamHealthCheck extends HealthCheck {

    private final UpstreamFactory upstream;

    public UpstreamHealthCheck(UpstreamFactory upstream) {
        this.upstream = upstream;
    }

    @Override
    protected Result check() {
        if (upstream.getApiKey().isBlank()) {
            return Result.unhealthy("OPENAI_API_KEY is not set: /session answers upstream_unavailable");
        }
        return Result.healthy("upstream " + upstream.uri().getHost() + ", default model " + upstream.getModel());
    }
}
