package ducke.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MaxDataSize;
import io.dropwizard.validation.MinDataSize;
import io.dropwizard.validation.MinDuration;
import jakarta.validation.constraints.NotNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The {@code relay} block: the {@code /session} WebSocket between clients and the upstream. */
public class RelayFactory {

    /**
     * Origins browsers may open {@code /session} from (exact, e.g. {@code https://duck-e.example}).
     * Empty: only same-origin pages. Requests without an Origin header (non-browser clients) pass.
     */
    @NotNull
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> allowedOrigins = new ArrayList<>();

    /**
     * Largest message accepted from the upstream: its events can be much larger than a client's (a
     * retrieved audio item comes back whole, as base64). A larger one is dropped, not the session.
     */
    @NotNull
    @MinDataSize(value = 1, unit = io.dropwizard.util.DataSizeUnit.KIBIBYTES)
    @MaxDataSize(value = 256, unit = io.dropwizard.util.DataSizeUnit.MEBIBYTES)
    private DataSize maxUpstreamFrameSize = DataSize.mebibytes(16);

    /** Largest single frame accepted from a client. */
    @NotNull
    @MinDataSize(value = 1, unit = io.dropwizard.util.DataSizeUnit.KIBIBYTES)
    @MaxDataSize(value = 64, unit = io.dropwizard.util.DataSizeUnit.MEBIBYTES)
    private DataSize maxFrameSize = DataSize.mebibytes(1);

    /** Bytes waiting to be sent to one side before the session is closed as stalled. */
    @NotNull
    @MinDataSize(value = 16, unit = io.dropwizard.util.DataSizeUnit.KIBIBYTES)
    private DataSize maxBufferedBytes = DataSize.mebibytes(4);

    /** A session with no frame either way for this long is closed. */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    private Duration idleTimeout = Duration.minutes(5);

    /**
     * How often the upstream is pinged; a connection that leaves a ping unanswered for three
     * intervals is treated as dropped (a lost connection does not always announce itself).
     */
    @NotNull
    @MinDuration(value = 10, unit = TimeUnit.MILLISECONDS)
    private Duration upstreamPingInterval = Duration.seconds(15);

    /** Model function names that belong to a limited tool. */
    @NotNull
    private Map<String, String> toolFunctions = new LinkedHashMap<>(Map.of(
            "get_current_weather", "weather",
            "get_weather_forecast", "weather",
            "web_search", "web_search"));

    /** Responses one session may have in progress at once (the client's and the gateway's). */
    @jakarta.validation.constraints.Min(1)
    @jakarta.validation.constraints.Max(16)
    private int maxResponsesInFlight = 1;

    /** How long an ending session waits for the usage of the response it cancelled. */
    @NotNull
    @io.dropwizard.validation.MaxDuration(value = 60, unit = TimeUnit.SECONDS)
    private Duration finalUsageWait = Duration.seconds(5);

    /** WebRTC calls: how long the sideband may take to attach or re-attach before the call is hung up. */
    @NotNull
    @MinDuration(value = 100, unit = TimeUnit.MILLISECONDS)
    private Duration callAttachTimeout = Duration.seconds(5);

    /** Input tokens reserved for a session's first response (instructions and tools are input too). */
    @jakarta.validation.constraints.Min(0)
    @jakarta.validation.constraints.Max(1_000_000)
    private long minInputReserveTokens = 2_000;

    /**
     * Tool types clients may declare ({@code session.update}, {@code response.create}). Only
     * {@code function} by default: with {@code mcp} the provider lists and calls an MCP server's
     * tools itself, input the relay cannot see before it is billed.
     */
    @NotNull
    @JsonDeserialize(using = CommaSeparatedListDeserializer.class)
    private List<String> allowedToolTypes = new ArrayList<>(List.of("function"));

    /**
     * Whether clients may reference a stored prompt ({@code prompt}); off by default: its text lives
     * at the provider, input the relay cannot see before it is billed.
     */
    private boolean allowPromptReferences;

    /**
     * Instructions of the spoken goodbye: when a session ends for its cost or duration cap or a
     * drain, the model is asked for one short response with them before the session closes.
     * Empty: no goodbye.
     */
    @NotNull
    @jakarta.validation.constraints.Size(max = 4096)
    private String goodbyeInstructions = "";

    /** Output tokens of the session cap set aside for the goodbye (its input estimate is set aside too). */
    @jakarta.validation.constraints.Min(1)
    @jakarta.validation.constraints.Max(4096)
    private long goodbyeReserveTokens = 200;

    /** How realtime clients identify: none (by address), optional or required (a client secret). */
    @NotNull
    @jakarta.validation.constraints.Pattern(regexp = "(?i)none|optional|required",
            message = "must be none, optional or required (RELAY_CLIENT_AUTH)")
    private String clientAuth = "none";

    public String getGoodbyeInstructions() { return goodbyeInstructions; }
    public void setGoodbyeInstructions(String v) { this.goodbyeInstructions = v; }
    public long getGoodbyeReserveTokens() { return goodbyeReserveTokens; }
    public void setGoodbyeReserveTokens(long v) { this.goodbyeReserveTokens = v; }

    /**
     * How long a session that ends may take to charge its last response (and say its goodbye, when
     * one is configured, which may take as long again), with a margin: what a stopping node waits.
     */
    public long endingWaitMillis() {
        return finalUsageWait.toMilliseconds() * (goodbyeInstructions.isBlank() ? 1 : 2) + 2000;
    }

    public List<String> getAllowedToolTypes() { return allowedToolTypes; }
    public void setAllowedToolTypes(List<String> v) { this.allowedToolTypes = v; }
    public boolean isAllowPromptReferences() { return allowPromptReferences; }
    public void setAllowPromptReferences(boolean v) { this.allowPromptReferences = v; }
    public String getClientAuth() { return clientAuth; }
    public void setClientAuth(String v) { this.clientAuth = v; }
    public int getMaxResponsesInFlight() { return maxResponsesInFlight; }
    public void setMaxResponsesInFlight(int v) { this.maxResponsesInFlight = v; }
    public Duration getCallAttachTimeout() { return callAttachTimeout; }
    public void setCallAttachTimeout(Duration v) { this.callAttachTimeout = v; }
    public Duration getFinalUsageWait() { return finalUsageWait; }
    public void setFinalUsageWait(Duration v) { this.finalUsageWait = v; }
    public long getMinInputReserveTokens() { return minInputReserveTokens; }
    public void setMinInputReserveTokens(long v) { this.minInputReserveTokens = v; }
    public List<String> getAllowedOrigins() { return allowedOrigins; }
    public void setAllowedOrigins(List<String> v) { this.allowedOrigins = v; }
    public DataSize getMaxFrameSize() { return maxFrameSize; }
    public DataSize getMaxUpstreamFrameSize() { return maxUpstreamFrameSize; }
    public void setMaxUpstreamFrameSize(DataSize v) { this.maxUpstreamFrameSize = v; }
    public void setMaxFrameSize(DataSize v) { this.maxFrameSize = v; }
    public DataSize getMaxBufferedBytes() { return maxBufferedBytes; }
    public void setMaxBufferedBytes(DataSize v) { this.maxBufferedBytes = v; }
    public Duration getIdleTimeout() { return idleTimeout; }
    public void setIdleTimeout(Duration v) { this.idleTimeout = v; }
    public Duration getUpstreamPingInterval() { return upstreamPingInterval; }
    public void setUpstreamPingInterval(Duration v) { this.upstreamPingInterval = v; }
    public Map<String, String> getToolFunctions() { return toolFunctions; }
    public void setToolFunctions(Map<String, String> v) { this.toolFunctions = v; }
}
