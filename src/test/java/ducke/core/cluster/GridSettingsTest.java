package ducke.core.cluster;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class GridSettingsTest {

    @Test
    void encodingSurvivesAnyKeyOrValue() {
        GridSettings s = new GridSettings(Map.of("prices.models.a=b&c.input", "1.50", "k", "x y%&="));
        assertThat(GridSettings.decode(s.encode())).isEqualTo(s);
    }

    @Test
    void differencesNameEveryDifferingKeyWithBothValues() {
        GridSettings mine = new GridSettings(Map.of("prices.models.gpt-5.input", "12.00", "costProtection.enabled", "true",
                "prices.toolFees.web_search", "0.01"));
        GridSettings theirs = new GridSettings(Map.of("prices.models.gpt-5.input", "10.00", "costProtection.enabled", "true"));
        assertThat(mine.differences(theirs)).containsExactly(
                "prices.models.gpt-5.input is 12.00 here but 10.00 in the cluster",
                "prices.toolFees.web_search is 0.01 here but absent in the cluster");
        assertThat(mine.differences(mine)).isEmpty();
    }

    @Test
    void aMemberWithoutSettingsDiffersFromOneWithSettings() {
        GridSettings mine = new GridSettings(Map.of("costProtection.enabled", "true"));
        assertThat(mine.differences(GridSettings.decode(null))).containsExactly(
                "costProtection.enabled is true here but absent in the cluster");
        assertThat(GridSettings.decode("")).isEqualTo(GridSettings.NONE);
    }
}
