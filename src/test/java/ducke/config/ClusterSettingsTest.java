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
        assertThat(ClusterSettings.of(cost, new RateLimitFactory(), prices).differences(defaults())).containsExactly(
                "costProtection.maxTotalCostPerHourUsd is 80.00 here but 50.00 in the cluster",
                "prices.models.gpt-5.input is 12.00 here but 10.00 in the cluster");
    }

    @Test
    void theClientCapPerMinutePricesAndClientNetworksAreSettingsToo() {
        ducke.DuckeConfiguration mine = new ducke.DuckeConfiguration();
        ducke.DuckeConfiguration theirs = new ducke.DuckeConfiguration();
        assertThat(ClusterSettings.of(mine).differences(ClusterSettings.of(theirs))).isEmpty();
        mine.getCostProtection().setMaxClientCostPerHourUsd(new BigDecimal("99"));
        mine.getPrices().getPerMinute().put("whisper-1", new BigDecimal("5.00"));
        mine.getClientIdentity().setIpv6Prefix(48);
        assertThat(ClusterSettings.of(mine).differences(ClusterSettings.of(theirs))).containsExactlyInAnyOrder(
                "clientIdentity.ipv6Prefix is 48 here but 64 in the cluster",
                "costProtection.maxClientCostPerHourUsd is 99.00 here but 10.00 in the cluster",
                "prices.perMinute.whisper-1 is 5.00 here but 0.006 in the cluster");
    }
}
