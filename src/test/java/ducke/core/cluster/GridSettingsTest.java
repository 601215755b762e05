package ducke.core.cluster;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class GridSettingsTest {

    @Test
    void changesNameEveryChangedKeyWithTheOldAndTheNewValue() {
        GridSettings before = new GridSettings(Map.of("prices.models.gpt-5.input", "10.00", "costProtection.enabled", "true"));
        GridSettings after = new GridSettings(Map.of("prices.models.gpt-5.input", "12.00", "costProtection.enabled", "true",
                "prices.toolFees.web_search", "0.01"));
        assertThat(after.changesFrom(before)).containsExactly(
                "prices.models.gpt-5.input: 10.00 -> 12.00",
                "prices.toolFees.web_search: absent -> 0.01");
        assertThat(before.changesFrom(after)).containsExactly(
                "prices.models.gpt-5.input: 12.00 -> 10.00",
                "prices.toolFees.web_search: 0.01 -> absent");
        assertThat(after.changesFrom(after)).isEmpty();
    }
}
