package ducke.core.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelPriceTest {

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    @Test
    void simplePriceChargesInputAndOutputForEveryKind() {
        ModelPrice p = ModelPrice.simple("gpt-5", usd("10"), usd("30"));
        assertThat(p.rate(TokenKind.TEXT_INPUT)).isEqualTo(usd("10"));
        assertThat(p.rate(TokenKind.AUDIO_INPUT)).isEqualTo(usd("10"));
        assertThat(p.rate(TokenKind.CACHED_INPUT)).isEqualTo(usd("10"));
        assertThat(p.rate(TokenKind.TEXT_OUTPUT)).isEqualTo(usd("30"));
        assertThat(p.rate(TokenKind.AUDIO_OUTPUT)).isEqualTo(usd("30"));
    }

    @Test
    void missingSplitPartsFallBackToInputOrOutput() {
        ModelPrice p = new ModelPrice("rt", usd("100"), usd("200"), null, null, usd("32"), null, usd("64"));
        assertThat(p.rate(TokenKind.TEXT_INPUT)).isEqualTo(usd("100"));
        assertThat(p.rate(TokenKind.CACHED_INPUT)).isEqualTo(usd("100"));
        assertThat(p.rate(TokenKind.AUDIO_INPUT)).isEqualTo(usd("32"));
        assertThat(p.rate(TokenKind.TEXT_OUTPUT)).isEqualTo(usd("200"));
        assertThat(p.rate(TokenKind.AUDIO_OUTPUT)).isEqualTo(usd("64"));
    }

    @Test
    void nameIsTrimmedAndLowerCased() {
        assertThat(ModelPrice.simple("  GPT-Realtime ", 1, 1).model()).isEqualTo("gpt-realtime");
    }

    @Test
    void refusesABlankOrMissingName() {
        assertThatThrownBy(() -> ModelPrice.simple(" ", 1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ModelPrice.simple(null, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesNegativeOrAbsurdRates() {
        assertThatThrownBy(() -> ModelPrice.simple("m", -1, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ModelPrice.simple("m", 1, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ModelPrice.simple("m", usd("100000.000000001"), 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ModelPrice("m", 1, 1, -1L, null, null, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ModelPrice("m", 1, 1, null, null, null, null, usd("100001")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(ModelPrice.simple("m", 0, usd("100000")).rate(TokenKind.AUDIO_OUTPUT)).isEqualTo(usd("100000"));
    }

    @Test
    void tokenKindLabelsAreSnakeCase() {
        assertThat(TokenKind.AUDIO_INPUT.label()).isEqualTo("audio_input");
        assertThat(TokenKind.CACHED_INPUT.label()).isEqualTo("cached_input");
        assertThat(TokenKind.TEXT_OUTPUT.label()).isEqualTo("text_output");
    }
}
