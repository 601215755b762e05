package ducke.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import ducke.core.cost.ModelAllowList;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The {@code upstream} block: the paid realtime model behind this service. */
public class UpstreamFactory {

    /** WebSocket endpoint of the realtime API; the model is added as {@code ?model=}. */
    @NotBlank
    @Pattern(regexp = "wss?://\\S+", message = "must be a ws:// or wss:// URL")
    private String url = "wss://api.openai.com/v1/realtime";

    /**
     * The provider's WebRTC calls endpoint ({@code POST …/calls} takes an SDP offer); empty: derived
     * from {@link #url} ({@code ws}→{@code http}, {@code wss}→{@code https}, path + {@code /calls}).
     */
    @NotNull
    @Pattern(regexp = "(https?://\\S+)?", message = "must be empty or an http:// or https:// URL")
    private String callsUrl = "";

    /** Bearer key for the upstream; never logged. Empty: the relay answers upstream_unavailable. */
    @NotNull
    private String apiKey = "";

    /** Model used when a session does not ask for one. */
    @NotBlank
    @Pattern(regexp = "[A-Za-z0-9._:-]{1,64}")
    private String model = "gpt-realtime";

    /** Models a client may ask for with {@code ?model=}; the default model is always allowed. */
    @NotNull
    @NotEmpty
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> allowedModels = new ArrayList<>(List.of("gpt-realtime"));

    @NotNull
    @MinDuration(value = 100, unit = TimeUnit.MILLISECONDS)
    private Duration connectTimeout = Duration.seconds(10);

    public String getUrl() { return url; }
    public void setUrl(String url) { this.url = url; }
    public String getCallsUrl() { return callsUrl; }
    public void setCallsUrl(String callsUrl) { this.callsUrl = callsUrl == null ? "" : callsUrl.strip(); }
    public String getApiKey() { return apiKey; }
    public void setApiKey(String apiKey) { this.apiKey = apiKey; }
    public String getModel() { return model; }
    public void setModel(String model) { this.model = model; }
    public List<String> getAllowedModels() { return allowedModels; }
    public void setAllowedModels(List<String> allowedModels) { this.allowedModels = allowedModels; }
    public Duration getConnectTimeout() { return connectTimeout; }
    public void setConnectTimeout(Duration connectTimeout) { this.connectTimeout = connectTimeout; }

    public URI uri() {
        return URI.create(url);
    }

    /** The provider's calls endpoint: {@link #getCallsUrl()}, or derived from {@link #getUrl()}. */
    public URI callsUri() {
        if (!callsUrl.isBlank()) {
            return URI.create(callsUrl);
        }
        URI ws = uri();
        String scheme = "wss".equalsIgnoreCase(ws.getScheme()) ? "https" : "http";
        String path = ws.getRawPath() == null ? "" : ws.getRawPath();
        return URI.create(scheme + "://" + ws.getRawAuthority() + (path.endsWith("/") ? path + "calls" : path + "/calls"));
    }

    /** The models a realtime client may ask for: {@link #getModel()} by default, or one of {@link #getAllowedModels()}. */
    public ModelAllowList modelAllowList() {
        return new ModelAllowList(model, allowedModels);
    }
}
