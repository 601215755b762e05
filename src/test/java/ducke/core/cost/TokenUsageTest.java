package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenUsageTest {

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    /** A realtime price with a full split: text 4 / audio 32 / cached 0.4 in, text 16 / audio 64 out (USD per 1M). */
    private static final ModelPrice SPLIT = new ModelPrice("rt", usd("32"), usd("64"), usd("0.4"), usd("4"), usd("32"),
            usd("16"), usd("64"));
    private static final PriceTable TABLE = new PriceTable(List.of(SPLIT));

    private static TokenUsage usage(long in, long out, Long text, Long audio, Long cached, Long cachedAudio, Long textOut,
                                    Long audioOut) {
        return new TokenUsage(in, out, text, audio, cached, cachedAudio, textOut, audioOut);
    }

    @Test
    void detailsArePricedByKindToTheExactTotal() {
        TokenUsage u = usage(1_000, 500, 400L, 600L, 300L, null, 300L, 200L);
        PriceTable.Priced p = TABLE.price("rt", u);
        // 100 text × 4 + 600 audio × 32 + 300 cached × 0.4 + 300 text out × 16 + 200 audio out × 64 = 37 320 USD per 1M
        assertThat(p.tokens()).isEqualTo(TokenCounts.of(100, 600, 300, 300, 200));
        assertThat(p.costNanoUsd()).isEqualTo(37_320_000L);
        assertThat(Money.usd(p.costNanoUsd())).isEqualByComparingTo(new BigDecimal("0.03732"));
    }

    @Test
    void cachedTokensAreASubsetOfInput() {
        TokenCounts c = usage(1_000, 500, 400L, 600L, 300L, null, 300L, 200L).split(SPLIT);
        assertThat(c.input()).isEqualTo(1_000);
        assertThat(c.output()).isEqualTo(500);
    }

    @Test
    void cachedTokensComeOutOfTextFirstWithoutACachedAudioDetail() {
        TokenCounts within = usage(1_000, 0, 400L, 600L, 300L, null, null, null).split(SPLIT);
        assertThat(within).isEqualTo(TokenCounts.of(100, 600, 300, 0, 0));

        TokenCounts beyondText = usage(1_000, 0, 100L, 900L, 300L, null, null, null).split(SPLIT);
        assertThat(beyondText).as("the cached rest comes from audio").isEqualTo(TokenCounts.of(0, 700, 300, 0, 0));
    }

    @Test
    void cachedAudioDetailSplitsCachedTokensExactly() {
        TokenUsage u = usage(1_000, 500, 400L, 600L, 300L, 200L, 300L, 200L);
        PriceTable.Priced p = TABLE.price("rt", u);
        assertThat(p.tokens()).isEqualTo(TokenCounts.of(300, 400, 300, 300, 200));
        // 300 × 4 + 400 × 32 + 300 × 0.4 + 300 × 16 + 200 × 64 = 31 720 USD per 1M
        assertThat(p.costNanoUsd()).isEqualTo(31_720_000L);
    }

    @Test
    void allCachedAsAudioLeavesTextUncached() {
        TokenCounts c = usage(1_000, 0, 400L, 600L, 300L, 300L, null, null).split(SPLIT);
        assertThat(c).isEqualTo(TokenCounts.of(400, 300, 300, 0, 0));
    }

    @Test
    void inconsistentTotalsAreChargedAtTheLargerFigure() {
        // total says 1000, details only explain 800: the other 200 are charged, as the dearer audio
        TokenCounts moreInTotal = usage(1_000, 0, 300L, 500L, null, null, null, null).split(SPLIT);
        assertThat(moreInTotal).isEqualTo(TokenCounts.of(300, 700, 0, 0, 0));

        // details add up to more than the total: the details win
        TokenCounts moreInDetails = usage(500, 100, 300L, 500L, null, null, 300L, 200L).split(SPLIT);
        assertThat(moreInDetails).isEqualTo(TokenCounts.of(300, 500, 0, 300, 200));

        TokenCounts outputRest = usage(0, 1_000, null, null, null, null, 300L, 200L).split(SPLIT);
        assertThat(outputRest).isEqualTo(TokenCounts.of(0, 0, 0, 300, 700));
    }

    @Test
    void unknownKindTokensCountAsTheDearerKind() {
        ModelPrice textDearer = new ModelPrice("odd", usd("50"), usd("80"), null, usd("50"), usd("5"), usd("80"), usd("8"));
        TokenCounts c = usage(1_000, 1_000, 200L, 300L, null, null, 100L, 100L).split(textDearer);
        assertThat(c).isEqualTo(TokenCounts.of(700, 300, 0, 900, 100));

        TokenCounts audioDearer = usage(1_000, 1_000, 200L, 300L, null, null, 100L, 100L).split(SPLIT);
        assertThat(audioDearer).isEqualTo(TokenCounts.of(200, 800, 0, 100, 900));
    }

    @Test
    void reportWithoutDetailsCountsAsTextForAPlainPrice() {
        ModelPrice plain = ModelPrice.simple("gpt-5", usd("10"), usd("30"));
        assertThat(TokenUsage.totals(1_000, 500).split(plain)).isEqualTo(TokenCounts.of(1_000, 0, 0, 500, 0));
        assertThat(new TokenUsage(1_000, 500, null, null, 300L, null, null, null).split(plain))
                .isEqualTo(TokenCounts.of(700, 0, 300, 500, 0));
    }

    /*
     * PRODUCT: "the split is used when the usage event carries the details"; config.yml: "a part
     * left out costs what input/output cost". A report without details must therefore cost at
     * least the model's plain input/output rate. Fails today: TokenUsage.split sends the
     * undetailed tokens to the dearer *split* kind (audio 32 / 64), ignoring input 100 / output 200,
     * so 1000 in / 1000 out costs 0.096 instead of 0.30.
     */
    @Test
    void reportWithoutDetailsIsNeverChargedBelowThePlainRates() {
        ModelPrice realtime = new ModelPrice("gpt-realtime", usd("100"), usd("200"), usd("0.4"), usd("4"), usd("32"),
                usd("16"), usd("64"));
        PriceTable t = new PriceTable(List.of(realtime));
        assertThat(t.price("gpt-realtime", TokenUsage.totals(1_000, 1_000)).costNanoUsd()).isEqualTo(usd("0.30"));
    }

    @Test
    void refusesNegativeCounts() {
        assertThatThrownBy(() -> TokenUsage.totals(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TokenUsage.totals(0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> usage(10, 10, -1L, null, null, null, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> usage(10, 10, null, null, null, null, null, -5L)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesAbsurdCounts() {
        long max = TokenUsage.MAX_TOKENS_PER_REPORT;
        assertThat(TokenUsage.totals(max, max).inputTokens()).isEqualTo(max);
        assertThatThrownBy(() -> TokenUsage.totals(max + 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TokenUsage.totals(0, max + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> usage(0, 0, null, max + 1, null, null, null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesMoreCachedThanInputTokens() {
        assertThatThrownBy(() -> usage(100, 0, null, null, 101L, null, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cached");
        assertThatThrownBy(() -> usage(100, 0, 40L, 60L, 101L, null, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(usage(100, 0, null, null, 100L, null, null, null).cachedInput()).isEqualTo(100L);
    }

    @Test
    void refusesMoreCachedAudioThanCachedTokens() {
        assertThatThrownBy(() -> usage(100, 0, 50L, 50L, 10L, 11L, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> usage(100, 0, 50L, 50L, null, 1L, null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tokenCountsAddAndRefuseNegatives() {
        TokenCounts a = TokenCounts.of(1, 2, 3, 4, 5);
        assertThat(a.plus(a)).isEqualTo(TokenCounts.of(2, 4, 6, 8, 10));
        assertThat(a.plus(TokenCounts.ZERO)).isEqualTo(a).hasSameHashCodeAs(TokenCounts.of(1, 2, 3, 4, 5));
        assertThat(a.input()).isEqualTo(6);
        assertThat(a.output()).isEqualTo(9);
        assertThat(a.get(TokenKind.CACHED_INPUT)).isEqualTo(3);
        assertThatThrownBy(() -> TokenCounts.of(0, 0, -1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
