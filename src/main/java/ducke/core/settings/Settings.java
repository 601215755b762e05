package ducke.core.settings;

import ducke.core.cost.CostLimits;
import ducke.core.cost.PriceTable;
import ducke.core.ratelimit.RateLimitSettings;

/**
 * One version of the cluster's settings, built: what prices charges, caps sessions and spend,
 * limits requests and groups addresses into clients. Every node applies the same version; a charge
 * is priced by exactly one ({@link PriceTable#version()} names it). Immutable.
 *
 * @param version    the cluster's version number, 1 for the settings a cluster was first started with
 * @param ipv4Prefix leading bits of an IPv4 address that make one client
 * @param ipv6Prefix leading bits of an IPv6 address that make one client
 */
public record Settings(long version, PriceTable prices, CostLimits limits, RateLimitSettings rates, int ipv4Prefix,
                       int ipv6Prefix) {

    public Settings {
        if (version < 1) {
            throw new IllegalArgumentException("settings versions start at 1");
        }
        prices = prices.versioned(version);
    }
}
