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
        assertThat(TokenUsage.totals(max, 0).inputTokens()).isEqualTo(max);
        assertThatThrownBy(() -> TokenUsage.totals(max + 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TokenUsage.totals(0, max + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> usage(0, 0, null, max + 1, null, null, null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    /** The cap is per report, all kinds together: two 10M fields are 20M tokens, not two plausible counts. */
    @Test
    void theCapCountsEveryTokenOfTheReport() {
        long max = TokenUsage.MAX_TOKENS_PER_REPORT;
        assertThat(TokenUsage.totals(max / 2, max / 2).outputTokens()).isEqualTo(max / 2);
        assertThatThrownBy(() -> TokenUsage.totals(max, max)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("20000000 tokens");
        assertThatThrownBy(() -> usage(0, 0, null, null, null, null, max, max)).as("output details alone")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> usage(max, 0, null, null, null, null, 0L, 1L)).as("one token past the cap")
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(usage(max - 10, 10, max - 10, 0L, max - 10, null, 5L, 5L).inputTokens())
                .as("cached tokens are a part of the input, not more of it").isEqualTo(max - 10);
    }

    @Test
    void detailsLargerThanTheirTotalsAreRefusedWhenAsked() {
        assertThatThrownBy(() -> usage(100, 0, 60L, 50L, null, null, null, null).requireDetailsWithinTotals())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("input_token_details");
        assertThatThrownBy(() -> usage(0, 100, null, null, null, null, 10_000_000L / 2, 0L).requireDetailsWithinTotals())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("output_token_details");
        assertThatThrownBy(() -> usage(100, 0, 90L, 10L, 50L, 20L, null, null).requireDetailsWithinTotals())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("audio");
        TokenUsage exact = usage(100, 50, 60L, 40L, 30L, 10L, 20L, 30L);
        assertThat(exact.requireDetailsWithinTotals()).isSameAs(exact);
        TokenUsage partial = usage(100, 50, 60L, null, null, null, null, 30L);
        assertThat(partial.requireDetailsWithinTotals()).as("details may explain less than the total").isSameAs(partial);
    }

    @Test
    void aDurationReportKeepsItsSecondsToTheMillisecondRoundedUp() {
        assertThat(TokenUsage.durationSeconds(new BigDecimal("12")).durationMillis()).isEqualTo(12_000L);
        assertThat(TokenUsage.durationSeconds(new BigDecimal("1.2345")).durationMillis()).isEqualTo(1_235L);
        // exact decimals, rounded up; a tiny value with a huge exponent is a millisecond, not a rescale
        assertThat(TokenUsage.durationSeconds(new BigDecimal("1.0010000000000000000001")).durationMillis()).isEqualTo(1_002L);
        assertThat(TokenUsage.durationSeconds(new BigDecimal("1e-999999999")).durationMillis()).isEqualTo(1L);
        assertThat(TokenUsage.durationSeconds(new BigDecimal("0")).durationMillis()).isZero();
        assertThat(TokenUsage.durationSeconds(new BigDecimal("3")).billedByDuration()).isTrue();
        assertThat(TokenUsage.totals(1, 1).billedByDuration()).isFalse();
        assertThat(TokenUsage.durationSeconds(new BigDecimal("86400")).durationMillis()).isEqualTo(86_400_000L);
    }

    @Test
    void refusesNegativeOrAbsurdDurationsAndDurationsWithTokens() {
        assertThatThrownBy(() -> TokenUsage.durationSeconds(new BigDecimal("-1"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TokenUsage.durationSeconds(new BigDecimal("86400.001"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TokenUsage.durationSeconds(new BigDecimal("1e30"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenUsage(10, 0, null, null, null, null, null, null, 1_000L))
                .isInstanceOf(IllegalArgumentException.class);
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
