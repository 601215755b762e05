package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ModelAllowListTest {

    private final ModelAllowList models = new ModelAllowList("gpt-realtime", List.of("gpt-realtime-mini", " gpt-4o-realtime "));

    @Test
    void aRequestThatNamesNoModelGetsTheDefault() {
        assertThat(models.choose(null)).contains("gpt-realtime");
        assertThat(models.choose("")).contains("gpt-realtime");
        assertThat(models.choose("  ")).contains("gpt-realtime");
    }

    @Test
    void aListedModelOrTheDefaultIsTakenTrimmed() {
        assertThat(models.choose("gpt-realtime-mini")).contains("gpt-realtime-mini");
        assertThat(models.choose(" gpt-4o-realtime\t")).contains("gpt-4o-realtime");
        assertThat(models.choose("gpt-realtime ")).contains("gpt-realtime");
    }

    @Test
    void anyOtherModelIsRefused() {
        assertThat(models.choose("gpt-5")).isEmpty();
        assertThat(models.choose("GPT-REALTIME-MINI")).as("names are compared exactly: they travel upstream as written").isEmpty();
        assertThat(models.choose("gpt-realtime-mini-2025")).isEmpty();
    }

    @Test
    void theDefaultIsAllowedEvenWhenNotListed() {
        ModelAllowList onlyDefault = new ModelAllowList("gpt-realtime", List.of("gpt-realtime-mini"));
        assertThat(onlyDefault.allowed()).containsExactly("gpt-realtime", "gpt-realtime-mini");
    }

    @Test
    void widenedByMoreModelsKeepsTheDefaultAndTheList() {
        ModelAllowList api = models.with(List.of("gpt-5", "gpt-5-mini"));
        assertThat(api.choose("gpt-5")).contains("gpt-5");
        assertThat(api.choose("gpt-realtime-mini")).contains("gpt-realtime-mini");
        assertThat(api.choose(null)).contains("gpt-realtime");
        assertThat(api.allowed()).containsExactly("gpt-4o-realtime", "gpt-5", "gpt-5-mini", "gpt-realtime", "gpt-realtime-mini");
        assertThat(models.choose("gpt-5")).as("the original is unchanged").isEmpty();
    }
}
