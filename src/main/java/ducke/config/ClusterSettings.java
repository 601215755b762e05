package ducke.config;

import ducke.DuckeConfiguration;
import ducke.core.cluster.GridSettings;
import ducke.core.cost.CostLimits;
import ducke.core.cost.ModelPrice;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import ducke.core.ratelimit.LimitParser;

import java.util.Map;
import java.util.TreeMap;

/**
 * The settings a cluster's nodes share (one versioned document, {@link SettingsDocument}), by their
 * configuration keys, from the built values (so {@code 5.00} and {@code 5} agree): cost caps (the
 * per-client hourly cap too), rate limits, prices (per-minute prices of duration-billed models and
 * tool fees too) and how client addresses are grouped into clients. Used to name what differs.
 */
public final class ClusterSettings {

    private ClusterSettings() {
    }

    /** A node's settings, all of them. */
    public static GridSettings of(DuckeConfiguration config) {
        return of(config.getCostProtection(), config.getRateLimits(), config.getPrices(), config.getClientIdentity().getIpv4Prefix(),
                config.getClientIdentity().getIpv6Prefix());
    }

    /** The same, from the blocks and the client prefixes. */
    public static GridSettings of(CostProtectionFactory cost, RateLimitFactory rates, PricesFactory prices, int ipv4Prefix,
                                  int ipv6Prefix) {
        Map<String, String> m = new TreeMap<>(of(cost, rates, prices).values());
        // one client must be one key on every node, or its limits, slots and caps split
        m.put("clientIdentity.ipv4Prefix", Integer.toString(ipv4Prefix));
        m.put("clientIdentity.ipv6Prefix", Integer.toString(ipv6Prefix));
        return new GridSettings(m);
    }

    public static GridSettings of(CostProtectionFactory cost, RateLimitFactory rates, PricesFactory prices) {
        Map<String, String> m = new TreeMap<>();
        costLimits(m, cost.limits());
        m.put("rateLimits.enabled", Boolean.toString(rates.isEnabled()));
        m.put("rateLimits.failOpen", Boolean.toString(rates.isFailOpen()));
        Map<String, String> keys = Map.of("status", rates.getStatus(), "mainPage", rates.getMainPage(),
                "websocket", rates.getWebsocket(), "defaultLimit", rates.getDefaultLimit(),
                "weatherApi", rates.getWeatherApi(), "webSearch", rates.getWebSearch());
        keys.forEach((key, text) -> m.put("rateLimits." + key, canonical(text)));
        priceTable(m, prices.build());
        return new GridSettings(m);
    }

    private static void costLimits(Map<String, String> m, CostLimits l) {
        String p = "costProtection.";
        m.put(p + "enabled", Boolean.toString(l.enforced()));
        m.put(p + "maxSessionCostUsd", usd(l.maxSessionCostNanoUsd()));
        m.put(p + "maxSessionDurationMinutes", minutes(l.maxSessionDurationMillis()));
        m.put(p + "budgetWarningPercent", Integer.toString(l.warningBasisPoints() / 100));
        m.put(p + "maxConcurrentSessionsPerClient", Integer.toString(l.maxConcurrentSessionsPerClient()));
        m.put(p + "maxTotalCostPerHourUsd", usd(l.maxHourlyCostNanoUsd()));
        m.put(p + "circuitBreakerThresholdUsd", usd(l.breakerThresholdNanoUsd()));
        m.put(p + "circuitBreakerWindow", l.breakerWindowMillis() + "ms");
        m.put(p + "circuitBreakerCooldown", l.breakerCooldownMillis() + "ms");
        m.put(p + "maxClientCostPerHourUsd", usd(l.maxClientHourlyCostNanoUsd()));
    }

    private static void priceTable(Map<String, String> m, PriceTable t) {
        for (ModelPrice price : t.models().values()) {
            String p = "prices.models." + price.model() + ".";
            m.put(p + "input", usd(price.input()));
            m.put(p + "output", usd(price.output()));
            optional(m, p + "cachedInput", price.cachedInput());
            optional(m, p + "textInput", price.textInput());
            optional(m, p + "audioInput", price.audioInput());
            optional(m, p + "textOutput", price.textOutput());
            optional(m, p + "audioOutput", price.audioOutput());
        }
        t.toolFeesNanoUsd().forEach((tool, fee) -> m.put("prices.toolFees." + tool, usd(fee)));
        t.perMinute().forEach((model, rate) -> m.put("prices.perMinute." + model, usd(rate)));
    }

    private static void optional(Map<String, String> m, String key, Long nanoUsd) {
        if (nanoUsd != null) {
            m.put(key, usd(nanoUsd));
        }
    }

    /** The limit as the limiter reads it: {@code 60/minute} and {@code 60 per 1 minute} agree. */
    private static String canonical(String limit) {
        return LimitParser.parse(limit).describe();
    }

    private static String usd(long nanoUsd) {
        return Money.usd(nanoUsd).toPlainString();
    }

    private static String minutes(long millis) {
        return millis % 60_000 == 0 ? Long.toString(millis / 60_000) : millis + "ms";
    }
}
