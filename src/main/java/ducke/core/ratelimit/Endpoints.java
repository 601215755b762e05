package ducke.core.ratelimit;

import java.util.Set;

/** Names of the rate-limited endpoints and tools: metric labels, reset-task values, error bodies. */
public final class Endpoints {
    public static final String STATUS = "status";
    public static final String MAIN_PAGE = "main_page";
    public static final String WEBSOCKET = "websocket";
    /** WebRTC call offers ({@code POST /v1/realtime/calls}): the WebSocket's limit, a bucket of their own. */
    public static final String CALLS = "calls";
    public static final String DEFAULT = "default";
    public static final String WEATHER = "weather";
    public static final String WEB_SEARCH = "web_search";

    /** Tools with a per-client quota. */
    public static final Set<String> TOOLS = Set.of(WEATHER, WEB_SEARCH);

    private Endpoints() {
    }

    /** The endpoint a request path counts against. */
    public static String forPath(String path) {
        if (path == null || path.isEmpty() || path.equals("/")) {
            return MAIN_PAGE;
        }
        return switch (path) {
            case "/status", "/status/" -> STATUS;
            case "/session", "/session/", "/v1/realtime", "/v1/realtime/" -> WEBSOCKET;
            case "/v1/realtime/calls", "/v1/realtime/calls/" -> CALLS;
            default -> DEFAULT;
        };
    }
}
