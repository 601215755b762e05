package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CostValuesTest {

    @Test
    void defaultLimitsAreTheOriginalServicesCaps() {
        CostLimits d = CostLimits.defaults();
        assertThat(d.enforced()).isTrue();
        assertThat(d.maxSessionCostNanoUsd()).isEqualTo(5_000_000_000L);
        assertThat(d.maxSessionDurationMillis()).isEqualTo(1_800_000L);
        assertThat(d.warningBasisPoints()).isEqualTo(8000);
        assertThat(d.maxConcurrentSessionsPerClient()).isEqualTo(3);
        assertThat(d.maxHourlyCostNanoUsd()).isEqualTo(50_000_000_000L);
        assertThat(d.hourlyWindowMillis()).isEqualTo(3_600_000L);
        assertThat(d.breakerThresholdNanoUsd()).isEqualTo(100_000_000_000L);
        assertThat(d.breakerWindowMillis()).isEqualTo(3_600_000L);
        assertThat(d.breakerCooldownMillis()).isEqualTo(3_600_000L);
    }

    @Test
    void spendIsRememberedForTheLongerWindow() {
        CostLimits l = new CostLimits(true, 1, 1_000, 8000, 1, 1, 60_000, 1, 7_200_000, 1_000, 1);
        assertThat(l.spendRetentionMillis()).isEqualTo(7_200_000);
    }

    @Test
    void refusesNonsensicalLimits() {
        assertThatThrownBy(() -> new CostLimits(true, 0, 1_000, 8000, 1, 1, 60_000, 1, 60_000, 1_000, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CostLimits(true, 1, 1_000, 8000, 1, 1, 59_999, 1, 60_000, 1_000, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CostLimits(true, 1, 1_000, 0, 1, 1, 60_000, 1, 60_000, 1_000, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CostLimits(true, 1, 1_000, 10_001, 1, 1, 60_000, 1, 60_000, 1_000, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CostLimits(true, 1, 1_000, 8000, 0, 1, 60_000, 1, 60_000, 1_000, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CostLimits(true, 1, 999, 8000, 1, 1, 60_000, 1, 60_000, 1_000, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CostLimits(true, 1, 1_000, 8000, 1, 1, 60_000, 1, 60_000, 1_000, 0))
                .as("a client cap of nothing").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void endReasonLabelsRoundTrip() {
        for (EndReason r : EndReason.values()) {
            assertThat(EndReason.fromLabel(r.label())).isEqualTo(r);
        }
        assertThat(EndReason.BUDGET_EXCEEDED.label()).isEqualTo("budget_exceeded");
        assertThat(EndReason.SESSION_TIMEOUT.label()).isEqualTo("session_timeout");
    }

    @Test
    void sessionIdsAreWellFormedAndDistinct() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String id = SessionIds.next();
            assertThat(id).matches("sess_[0-9a-f]{32}");
            assertThat(SessionIds.wellFormed(id)).isTrue();
            seen.add(id);
        }
        assertThat(seen).hasSize(100);
    }

    @Test
    void malformedSessionIdsAreRecognised() {
        assertThat(SessionIds.wellFormed(null)).isFalse();
        assertThat(SessionIds.wellFormed("sess_" + "A".repeat(32))).isFalse();
        assertThat(SessionIds.wellFormed("sess_" + "a".repeat(31))).isFalse();
        assertThat(SessionIds.wellFormed("sess_" + "a".repeat(33))).isFalse();
        assertThat(SessionIds.wellFormed("sess-" + "a".repeat(32))).isFalse();
        assertThat(SessionIds.wellFormed(" sess_" + "a".repeat(32))).isFalse();
    }
}
