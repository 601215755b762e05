package ducke.config;

import ducke.core.cluster.GridSettings;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterSettingsTest {

    private static GridSettings defaults() {
        return ClusterSettings.of(new CostProtectionFactory(), new RateLimitFactory(), new PricesFactory());
    }

    @Test
    void coversCapsLimitsAndEveryPrice() {
        var values = defaults().values();
        assertThat(values).containsEntry("costProtection.maxSessionCostUsd", "5.00")
                .containsEntry("costProtection.maxTotalCostPerHourUsd", "50.00")
                .containsEntry("costProtection.circuitBreakerThresholdUsd", "100.00")
                .containsEntry("costProtection.maxConcurrentSessionsPerClient", "3")
                .containsEntry("rateLimits.websocket", "5 per 1 minute")
                .containsEntry("prices.models.gpt-5.input", "10.00")
                .containsEntry("prices.models.gpt-realtime.output", "200.00");
    }

    @Test
    void equalValuesWrittenDifferentlyAgree() {
        CostProtectionFactory cost = new CostProtectionFactory();
        cost.setMaxSessionCostUsd(new BigDecimal("5"));
        RateLimitFactory rates = new RateLimitFactory();
        rates.setWebsocket("5 per 1 minute");
        assertThat(ClusterSettings.of(cost, rates, new PricesFactory())).isEqualTo(defaults());
    }

    @Test
    void aDifferentPriceOrCapIsADifference() {
        PricesFactory prices = new PricesFactory();
        PricesFactory.Model dearer = new PricesFactory.Model();
        dearer.setInput(new BigDecimal("12.00"));
        dearer.setOutput(new BigDecimal("30.00"));
        prices.getModels().put("gpt-5", dearer);
        CostProtectionFactory cost = new CostProtectionFactory();
        cost.setMaxTotalCostPerHourUsd(new BigDecimal("80"));
        assertThat(ClusterSettings.of(cost, new RateLimitFactory(), prices).changesFrom(defaults())).containsExactly(
                "costProtection.maxTotalCostPerHourUsd: 50.00 -> 80.00",
                "prices.models.gpt-5.input: 10.00 -> 12.00");
    }

    @Test
    void theClientCapPerMinutePricesAndClientNetworksAreSettingsToo() {
        ducke.DuckeConfiguration mine = new ducke.DuckeConfiguration();
        ducke.DuckeConfiguration theirs = new ducke.DuckeConfiguration();
        assertThat(ClusterSettings.of(mine).changesFrom(ClusterSettings.of(theirs))).isEmpty();
        mine.getCostProtection().setMaxClientCostPerHourUsd(new BigDecimal("99"));
        mine.getPrices().getPerMinute().put("whisper-1", new BigDecimal("5.00"));
        mine.getClientIdentity().setIpv6Prefix(48);
        assertThat(ClusterSettings.of(mine).changesFrom(ClusterSettings.of(theirs))).containsExactlyInAnyOrder(
                "clientIdentity.ipv6Prefix: 64 -> 48",
                "costProtection.maxClientCostPerHourUsd: 10.00 -> 99.00",
                "prices.perMinute.whisper-1: 0.006 -> 5.00");
    }
}
