package ducke.config;

import ducke.DuckeConfiguration;
import ducke.core.cost.Money;
import ducke.core.cost.TokenUsage;
import ducke.core.settings.Settings;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsDocumentTest {

    private static SettingsDocument defaults() {
        return SettingsDocument.of(new DuckeConfiguration());
    }

    private static SettingsDocument merged(String patch) {
        return defaults().merge(SettingsDocument.tree(patch));
    }

    @Test
    void aPatchNamingSomeSettingsChangesOnlyThose() {
        SettingsDocument after = merged("""
                prices:
                  models:
                    gpt-5:
                      input: "12.50"
                costProtection:
                  maxSessionCostUsd: 2
                """);
        assertThat(after.flat().changesFrom(defaults().flat())).containsExactly(
                "costProtection.maxSessionCostUsd: 5.00 -> 2.00",
                "prices.models.gpt-5.input: 10.00 -> 12.50");
        Settings s = after.build(2);
        assertThat(s.limits().maxSessionCostNanoUsd()).isEqualTo(Money.nanoUsd("2"));
        // gpt-5 output stays 30: 100k in at 12.50 + 200k out at 30.00 = 1.25 + 6.00
        assertThat(s.prices().price("gpt-5", TokenUsage.totals(100_000, 200_000)).costNanoUsd()).isEqualTo(Money.nanoUsd("7.25"));
        assertThat(s.prices().price("gpt-5-mini", TokenUsage.totals(1_000_000, 500_000)).costNanoUsd()).isEqualTo(Money.nanoUsd("10.50"));
    }

    @Test
    void jsonIsTakenAsWellAsYaml() {
        SettingsDocument after = merged("{\"rateLimits\": {\"websocket\": \"7/minute\"}, \"clientIdentity\": {\"ipv6Prefix\": 56}}");
        assertThat(after.flat().changesFrom(defaults().flat())).containsExactly(
                "clientIdentity.ipv6Prefix: 64 -> 56",
                "rateLimits.websocket: 5 per 1 minute -> 7 per 1 minute");
        assertThat(after.build(3).ipv6Prefix()).isEqualTo(56);
    }

    @Test
    void nullRemovesAModelAndANewModelCanBeAdded() {
        SettingsDocument after = merged("""
                {"prices": {"models": {"gpt-5-mini": null, "gpt-6": {"input": "20", "output": "60"}},
                            "toolFees": {"web_search": "0.01"}}}
                """);
        assertThat(after.build(2).prices().models()).containsOnlyKeys("gpt-5", "gpt-6", "gpt-realtime");
        assertThat(after.build(2).prices().toolFeeNanoUsd("web_search")).isEqualTo(Money.nanoUsd("0.01"));
    }

    @Test
    void equalValuesWrittenDifferentlyAreNoChangeAndTheTextIsCanonical() {
        SettingsDocument after = merged("{\"costProtection\": {\"maxSessionCostUsd\": \"5\", \"circuitBreakerWindow\": \"1h\"},"
                + " \"rateLimits\": {\"status\": \"60 per 1 minute\"}}");
        assertThat(after.flat().changesFrom(defaults().flat())).isEmpty();
        assertThat(SettingsDocument.parse(defaults().json()).json()).isEqualTo(defaults().json());
        assertThat(defaults().json()).contains("\"maxSessionCostUsd\":\"5.00\"").doesNotContain("endedSessionRetention");
    }

    @Test
    void anUnknownKeyIsRefusedByName() {
        assertThatThrownBy(() -> merged("{\"costProtection\": {\"maxSessionCostUSD\": 2}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("costProtection.maxSessionCostUSD");
        assertThatThrownBy(() -> merged("{\"prices\": {\"models\": {\"gpt-5\": {\"inputs\": 2}}}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("prices.models.gpt-5.inputs");
        assertThatThrownBy(() -> merged("{\"upstream\": {\"url\": \"ws://evil\"}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("'upstream'");
        // per-node housekeeping is not the cluster's to set
        assertThatThrownBy(() -> merged("{\"costProtection\": {\"sweepInterval\": \"5s\"}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("costProtection.sweepInterval");
    }

    @Test
    void aValueStartUpWouldRefuseIsRefusedWithItsKey() {
        assertThatThrownBy(() -> merged("{\"prices\": {\"models\": {\"gpt-5\": {\"input\": \"-1\"}}}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("prices.models[gpt-5].input");
        assertThatThrownBy(() -> merged("{\"costProtection\": {\"maxTotalCostPerHourUsd\": 0}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("costProtection.maxTotalCostPerHourUsd");
        assertThatThrownBy(() -> merged("{\"rateLimits\": {\"status\": \"lots\"}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("rateLimits.status");
        assertThatThrownBy(() -> merged("{\"clientIdentity\": {\"ipv4Prefix\": 40}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("clientIdentity.ipv4Prefix");
        assertThatThrownBy(() -> merged("{\"costProtection\": {\"maxSessionCostUsd\": \"five\"}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("costProtection");
        assertThatThrownBy(() -> merged("{\"prices\": {\"models\": {\"gpt-5\": {\"input\": null}}}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("input");
        assertThatThrownBy(() -> merged("{\"prices\": {\"models\": {\"gpt-5\": null, \"gpt-5-mini\": null, \"gpt-realtime\": null}}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("prices.models");
    }

    @Test
    void aCapCannotBeRemovedOnlyChanged() {
        assertThatThrownBy(() -> merged("{\"costProtection\": {\"maxSessionCostUsd\": null}}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("costProtection.maxSessionCostUsd cannot be removed");
    }

    @Test
    void malformedOrNonObjectDocumentsAreRefused() {
        assertThatThrownBy(() -> SettingsDocument.tree("prices: [unclosed"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("not valid YAML or JSON");
        assertThatThrownBy(() -> SettingsDocument.tree("[1, 2]"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("must be an object");
        assertThatThrownBy(() -> SettingsDocument.tree("\"just text\""))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("must be an object");
        assertThatThrownBy(() -> SettingsDocument.tree(""))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> merged("{\"costProtection\": 5}"))
                .isInstanceOf(SettingsDocument.Invalid.class).hasMessageContaining("costProtection must be an object");
        assertThatThrownBy(() -> SettingsDocument.tree("{\"a\": 1, \"a\": 2}"))
                .isInstanceOf(SettingsDocument.Invalid.class);
    }

    @Test
    void aNodesOwnConfigurationIsItsDocument() {
        DuckeConfiguration c = new DuckeConfiguration();
        c.getCostProtection().setMaxSessionCostUsd(new BigDecimal("3.5"));
        assertThat(SettingsDocument.of(c).flat().changesFrom(defaults().flat()))
                .containsExactly("costProtection.maxSessionCostUsd: 5.00 -> 3.50");
        assertThat(SettingsDocument.of(c).build(1).prices().version()).startsWith("v1-");
    }
}
