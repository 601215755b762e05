package ducke.resources;

import ducke.api.StatusResponse;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * {@code GET /}: a page that says what this service is and shows this node's live status; a small
 * script refreshes every field from {@code /status} every 15 seconds (well inside both endpoints'
 * limits).
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
                <tr><td>Circuit breaker</td><td id="breaker" class="%s">%s</td></tr>
                <tr><td>Spend, rolling hour</td><td id="spend">%s</td></tr>
                <tr><td>Cost protection</td><td id="cp">%s</td></tr>
                <tr><td>Rate limiting</td><td id="rl">%s</td></tr>
                <tr><td>Up for</td><td id="uptime" title="since %s">%s</td></tr>
                <tr><td>Version</td><td id="version">%s</td></tr>
                </table>
                <p>Operators: the <a href="/console" id="console-link">console</a> (live sessions, spend, breaker; needs the operator token). Machine-readable: <a href="/status">/status</a>.</p>
                <script>
                function breaker(s){return s.circuit_breaker==='open'?'open until '+s.circuit_breaker_resets_at:'closed';}
                function spend(s){return '$'+s.hourly_cost_usd.toFixed(2)+' of $'+s.max_hourly_cost_usd.toFixed(2)+' cap';}
                function onOff(b){return b?'on':'off';}
                function duration(t){const d=Math.floor(t/86400),h=Math.floor(t%%86400/3600),m=Math.floor(t%%3600/60);
                return d>0?d+' d '+h+' h':h>0?h+' h '+m+' min':m>0?m+' min':t+' s';}
                function set(id,text){document.getElementById(id).textContent=text;}
                async function refresh(){try{const r=await fetch('/status');if(!r.ok)return;const s=await r.json();
                set('st',s.status);set('node',s.node);set('cluster',s.cluster);set('members',s.cluster_members);
                set('breaker',breaker(s));document.getElementById('breaker').className=s.circuit_breaker==='open'?'bad':'ok';
                set('spend',spend(s));set('cp',onOff(s.cost_protection_enabled));set('rl',onOff(s.rate_limiting_enabled));
                set('uptime',duration(s.uptime_seconds));document.getElementById('uptime').title='since '+s.started_at;set('version',s.version);}catch(e){}}
                setInterval(refresh,15000);
                </script>
                </body></html>
                """.formatted(Html.escape(s.status()), Html.escape(s.node()), Html.escape(s.cluster()), s.clusterMembers(),
                "open".equals(s.circuitBreaker()) ? "bad" : "ok", Html.escape(breaker(s)),
                Html.escape("$" + cents(s.hourlyCostUsd()) + " of $" + cents(s.maxHourlyCostUsd()) + " cap"),
                s.costProtectionEnabled() ? "on" : "off", s.rateLimitingEnabled() ? "on" : "off",
                Html.escape(s.startedAt()), duration(s.uptimeSeconds()), Html.escape(s.version()));
    }

    /** Display only, to the cent as the script shows it; /status carries the exact figure. */
    private static String cents(BigDecimal usd) {
        return usd.setScale(2, RoundingMode.HALF_UP).toPlainString();
    }

    /** An uptime as people read it: {@code 42 s}, {@code 12 min}, {@code 3 h 12 min}, {@code 2 d 5 h}. */
    static String duration(long seconds) {
        long d = seconds / 86_400;
        long h = seconds % 86_400 / 3600;
        long m = seconds % 3600 / 60;
        if (d > 0) {
            return d + " d " + h + " h";
        }
        if (h > 0) {
            return h + " h " + m + " min";
        }
        return m > 0 ? m + " min" : seconds + " s";
    }

    private static String breaker(StatusResponse s) {
        return "open".equals(s.circuitBreaker()) ? "open until " + s.circuitBreakerResetsAt() : "closed";
    }
}
