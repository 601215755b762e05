package ducke.core.settings;

import ducke.core.cost.CostLimits;
import ducke.core.cost.PriceTable;
import ducke.core.cost.TokenUsage;
import ducke.core.ratelimit.RateLimitSettings;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LiveSettingsTest {

    private static Settings version(long v) {
        return new Settings(v, PriceTable.defaults(), CostLimits.defaults(), new RateLimitSettings(Map.of(), true, true), 32, 64);
    }

    @Test
    void aNewerVersionReplacesTheWholeValueAndListenersHearOfIt() {
        LiveSettings live = new LiveSettings(version(1));
        List<Long> heard = new ArrayList<>();
        live.onChange(s -> heard.add(s.version()));
        assertThat(live.offer(version(3))).isTrue();
        assertThat(live.get().version()).isEqualTo(3);
        assertThat(heard).containsExactly(3L);
    }

    @Test
    void anOlderOrEqualVersionOfferedLateIsIgnored() {
        LiveSettings live = new LiveSettings(version(1));
        live.offer(version(4));
        assertThat(live.offer(version(2))).isFalse();
        assertThat(live.offer(version(4))).isFalse();
        assertThat(live.get().version()).isEqualTo(4);
    }

    @Test
    void thePricesNameTheSettingsVersionAndEveryPricedReportCarriesIt() {
        Settings s = version(7);
        assertThat(s.prices().version()).matches("v7-[0-9a-f]{12}");
        assertThat(s.prices().price("gpt-5", TokenUsage.totals(1, 1)).version()).isEqualTo(s.prices().version());
        // the same prices at another version are named apart, and price the same
        assertThat(version(8).prices().version()).isNotEqualTo(s.prices().version())
                .endsWith(s.prices().version().substring(3));
    }

    @Test
    void versionsStartAtOne() {
        assertThatThrownBy(() -> version(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
