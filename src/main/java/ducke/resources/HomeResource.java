package ducke.resources;

import ducke.api.StatusResponse;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /}: a page that says what this service is and shows this node's live status; a small
 * script refreshes it from {@code /status} every 15 seconds (well inside both endpoints' limits).
 */
@Path("/")
@Produces(MediaType.TEXT_HTML)
public final class HomeResource {

    private final StatusResource status;

    public HomeResource(StatusResource status) {
        this.status = status;
    }

    @GET
    public String page() {
        StatusResponse s = status.status();
        return """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <title>DUCK-E Guard</title>
                <style>
                body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
                table{border-collapse:collapse}td{padding:.25rem 1rem .25rem 0}td:first-child{color:#666}
                .ok{color:#0a0}.bad{color:#c00}
                </style></head><body>
                <h1>DUCK-E Guard</h1>
                <p>The front door of the DUCK-E voice assistant: it rate-limits every client across the whole
                cluster and guards the cost of the paid realtime model.</p>
                <h2>This node</h2>
                <table id="status">
                <tr><td>Status</td><td id="st" class="ok">%s</td></tr>
                <tr><td>Node</td><td id="node">%s</td></tr>
                <tr><td>Cluster</td><td id="cluster">%s</td></tr>
                <tr><td>Cluster members</td><td id="members">%d</td></tr>
                <tr><td>Rate limiting</td><td id="rl">%s</td></tr>
                <tr><td>Up since</td><td id="since">%s</td></tr>
                <tr><td>Version</td><td>%s</td></tr>
                </table>
                <p>Machine-readable: <a href="/status">/status</a>.</p>
                <script>
                async function refresh(){try{const r=await fetch('/status');if(!r.ok)return;const s=await r.json();
                document.getElementById('st').textContent=s.status;document.getElementById('members').textContent=s.cluster_members;
                document.getElementById('rl').textContent=s.rate_limiting_enabled?'on':'off';}catch(e){}}
                setInterval(refresh,15000);
                </script>
                </body></html>
                """.formatted(Html.escape(s.status()), Html.escape(s.node()), Html.escape(s.cluster()),
                s.clusterMembers(), s.rateLimitingEnabled() ? "on" : "off", Html.escape(s.startedAt()),
                Html.escape(s.version()));
    }
}
