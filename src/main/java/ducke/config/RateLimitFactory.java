package ducke.config;

import ducke.core.ratelimit.Endpoints;
import ducke.core.ratelimit.LimitParser;
import ducke.core.ratelimit.LimitPolicy;
import ducke.core.ratelimit.LocalDenials;
import ducke.core.ratelimit.RateLimitStore;
import ducke.core.ratelimit.RateLimitSettings;
import ducke.core.ratelimit.RateLimiter;
import io.dropwizard.util.Duration;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

import java.util.Map;
import java.util.function.Supplier;

/** The {@code rateLimits} block: per-client limits by endpoint and tool, in the limit syntax. */
public class RateLimitFactory {

    private boolean enabled = true;

    @LimitSyntax
    private String status = "60/minute";

    @LimitSyntax
    private String mainPage = "30/minute";

    @LimitSyntax
    private String websocket = "5/minute";

    @LimitSyntax
    private String defaultLimit = "100/minute";

    @LimitSyntax
    private String weatherApi = "10/hour";

    @LimitSyntax
    private String webSearch = "5/hour";

    /** Whether requests pass when the grid cannot answer a check in time. */
    private boolean failOpen = true;

    @NotNull
    private Duration gridTimeout = Duration.milliseconds(250);

    /** Denials remembered per node so repeat offenders cost no grid hop; bounded. */
    @Min(0)
    private int localDenialCacheSize = 100_000;

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public String getStatus() { return status; }
    public void setStatus(String status) { this.status = status; }
    public String getMainPage() { return mainPage; }
    public void setMainPage(String mainPage) { this.mainPage = mainPage; }
    public String getWebsocket() { return websocket; }
    public void setWebsocket(String websocket) { this.websocket = websocket; }
    public String getDefaultLimit() { return defaultLimit; }
    public void setDefaultLimit(String defaultLimit) { this.defaultLimit = defaultLimit; }
    public String getWeatherApi() { return weatherApi; }
    public void setWeatherApi(String weatherApi) { this.weatherApi = weatherApi; }
    public String getWebSearch() { return webSearch; }
    public void setWebSearch(String webSearch) { this.webSearch = webSearch; }
    public boolean isFailOpen() { return failOpen; }
    public void setFailOpen(boolean failOpen) { this.failOpen = failOpen; }
    public Duration getGridTimeout() { return gridTimeout; }
    public void setGridTimeout(Duration gridTimeout) { this.gridTimeout = gridTimeout; }
    public int getLocalDenialCacheSize() { return localDenialCacheSize; }
    public void setLocalDenialCacheSize(int localDenialCacheSize) { this.localDenialCacheSize = localDenialCacheSize; }

    public LocalDenials buildLocalDenials() {
        return new LocalDenials(localDenialCacheSize);
    }

    /** Limits by endpoint name (see {@link Endpoints}). */
    public Map<String, LimitPolicy> policies() {
        return Map.of(
                Endpoints.STATUS, LimitParser.parse(status),
                Endpoints.MAIN_PAGE, LimitParser.parse(mainPage),
                Endpoints.WEBSOCKET, LimitParser.parse(websocket),
                Endpoints.CALLS, LimitParser.parse(websocket),
                Endpoints.DEFAULT, LimitParser.parse(defaultLimit),
                Endpoints.WEATHER, LimitParser.parse(weatherApi),
                Endpoints.WEB_SEARCH, LimitParser.parse(webSearch));
    }

    public RateLimiter build(RateLimitStore store, LocalDenials denials) {
        return new RateLimiter(policies(), store, denials, enabled, failOpen);
    }

    /** A limiter that reads its limits from {@code settings} (the cluster's current version) at every check. */
    public RateLimiter build(Supplier<RateLimitSettings> settings, RateLimitStore store, LocalDenials denials) {
        return new RateLimiter(settings, policies().keySet(), store, denials);
    }
}
