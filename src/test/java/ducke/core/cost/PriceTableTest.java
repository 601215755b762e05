package ducke.core.cost;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PriceTableTest {

    private static final PriceTable DEFAULTS = PriceTable.defaults();

    private static long usd(String amount) {
        return Money.nanoUsd(amount);
    }

    private static void assertSeedFigure(String model, long in, long out, String expectedUsd, long expectedNanos) {
        PriceTable.Priced p = DEFAULTS.price(model, TokenUsage.totals(in, out));
        assertThat(p.costNanoUsd()).as("%s %d in / %d out in nano-USD", model, in, out).isEqualTo(expectedNanos);
        assertThat(Money.usd(p.costNanoUsd())).as("%s %d in / %d out in USD", model, in, out)
                .isEqualByComparingTo(new BigDecimal(expectedUsd));
        assertThat(Money.usd(p.costNanoUsd()).toPlainString()).isEqualTo(expectedUsd);
        assertThat(p.match().known()).isTrue();
        assertThat(p.match().label()).isEqualTo(model);
    }

    @Test
    void gpt5HundredThousandInTwoHundredThousandOutCostsExactlySevenDollars() {
        assertSeedFigure("gpt-5", 100_000, 200_000, "7.00", 7_000_000_000L);
    }

    @Test
    void gpt5MiniMillionInHalfMillionOutCostsExactlyTenFifty() {
        assertSeedFigure("gpt-5-mini", 1_000_000, 500_000, "10.50", 10_500_000_000L);
    }

    @Test
    void gptRealtimeFiftyThousandInHundredThousandOutCostsExactlyTwentyFive() {
        assertSeedFigure("gpt-realtime", 50_000, 100_000, "25.00", 25_000_000_000L);
    }

    @Test
    void gpt5FortyThousandInHundredTwentyThousandOutCostsExactlyFourNotFloatNoise() {
        assertSeedFigure("gpt-5", 40_000, 120_000, "4.00", 4_000_000_000L);
    }

    @Test
    void defaultsCarryTheSeedRates() {
        Map<String, ModelPrice> models = DEFAULTS.models();
        assertThat(models).containsOnlyKeys("gpt-5", "gpt-5-mini", "gpt-realtime");
        assertThat(models.get("gpt-5").input()).isEqualTo(usd("10"));
        assertThat(models.get("gpt-5").output()).isEqualTo(usd("30"));
        assertThat(models.get("gpt-5-mini").input()).isEqualTo(usd("3"));
        assertThat(models.get("gpt-5-mini").output()).isEqualTo(usd("15"));
        assertThat(models.get("gpt-realtime").input()).isEqualTo(usd("100"));
        assertThat(models.get("gpt-realtime").output()).isEqualTo(usd("200"));
    }

    @Test
    void matchesModelNamesCaseInsensitivelyAfterTrimming() {
        PriceTable.Match m = DEFAULTS.match(" GPT-5 ");
        assertThat(m.known()).isTrue();
        assertThat(m.label()).isEqualTo("gpt-5");
        assertThat(DEFAULTS.match("Gpt-Realtime\t").label()).isEqualTo("gpt-realtime");
        assertThat(DEFAULTS.price(" GPT-5 ", TokenUsage.totals(100_000, 200_000)).costNanoUsd()).isEqualTo(7_000_000_000L);
    }

    @Test
    void configuredNamesAreNormalisedToo() {
        PriceTable t = new PriceTable(List.of(ModelPrice.simple("  My-Model ", usd("1"), usd("2"))));
        assertThat(t.models()).containsOnlyKeys("my-model");
        assertThat(t.match("MY-MODEL").known()).isTrue();
    }

    @Test
    void datedSnapshotTakesTheLongestConfiguredPrefix() {
        assertThat(DEFAULTS.match("gpt-5-mini-2025-08-07").label()).isEqualTo("gpt-5-mini");
        assertThat(DEFAULTS.match("gpt-realtime-2025-08-28").label()).isEqualTo("gpt-realtime");
        assertThat(DEFAULTS.match("gpt-5-2025-08-07").label()).isEqualTo("gpt-5");
        assertThat(DEFAULTS.match("GPT-5-MINI-2025-08-07").label()).isEqualTo("gpt-5-mini");
        assertThat(DEFAULTS.price("gpt-5-mini-2025-08-07", TokenUsage.totals(1_000_000, 500_000)).costNanoUsd())
                .isEqualTo(10_500_000_000L);
    }

    @Test
    void longestPrefixWinsWhateverTheConfigurationOrder() {
        ModelPrice shortName = ModelPrice.simple("gpt-5", usd("10"), usd("30"));
        ModelPrice longName = ModelPrice.simple("gpt-5-mini", usd("3"), usd("15"));
        for (List<ModelPrice> order : List.of(List.of(shortName, longName), List.of(longName, shortName))) {
            assertThat(new PriceTable(order).match("gpt-5-mini-2025-08-07").label()).isEqualTo("gpt-5-mini");
        }
    }

    /*
     * A prefix must end at a name boundary: "gpt-50" is not a snapshot of "gpt-5". Fails today:
     * PriceTable.match uses a bare startsWith, so "gpt-50" is priced as gpt-5 (cheaper than unknown).
     */
    @Test
    void prefixOnlyMatchesAtANameBoundary() {
        assertThat(DEFAULTS.match("gpt-50").known()).isFalse();
        assertThat(DEFAULTS.match("gpt-5x").known()).isFalse();
        assertThat(DEFAULTS.match("gpt-realtimeX").known()).isFalse();
    }

    /*
     * PRODUCT: only a *dated snapshot* takes the longest prefix; any other model that is not
     * configured is unknown and pays the most expensive rates ("never cheaper"). Fails today:
     * "gpt-5-pro" (a dearer real model) is priced at gpt-5's 10/30 instead of the unknown 100/200.
     */
    @Test
    void undatedVariantOfAConfiguredModelIsPricedAsUnknown() {
        PriceTable.Match m = DEFAULTS.match("gpt-5-pro");
        assertThat(m.known()).isFalse();
        assertThat(m.label()).isEqualTo("unknown");
        assertThat(DEFAULTS.price("gpt-5-pro", TokenUsage.totals(1_000_000, 0)).costNanoUsd()).isEqualTo(usd("100"));
    }

    @Test
    void unknownModelIsLabelledUnknownAndPricedAtTheDearestRates() {
        PriceTable.Match m = DEFAULTS.match("claude-opus");
        assertThat(m.known()).isFalse();
        assertThat(m.label()).isEqualTo("unknown").isEqualTo(PriceTable.UNKNOWN);
        for (TokenKind k : List.of(TokenKind.TEXT_INPUT, TokenKind.AUDIO_INPUT, TokenKind.CACHED_INPUT)) {
            assertThat(m.price().rate(k)).as(k.label()).isEqualTo(usd("100"));
        }
        for (TokenKind k : List.of(TokenKind.TEXT_OUTPUT, TokenKind.AUDIO_OUTPUT)) {
            assertThat(m.price().rate(k)).as(k.label()).isEqualTo(usd("200"));
        }
        assertThat(DEFAULTS.price("claude-opus", TokenUsage.totals(50_000, 100_000)).costNanoUsd()).isEqualTo(usd("25"));
    }

    @Test
    void missingOrBlankModelIsUnknown() {
        assertThat(DEFAULTS.match(null).known()).isFalse();
        assertThat(DEFAULTS.match("").known()).isFalse();
        assertThat(DEFAULTS.match("   ").label()).isEqualTo("unknown");
    }

    @Test
    void unknownTakesTheMaximumOfEachKindAcrossModels() {
        // no single model is dearest in every kind
        ModelPrice a = ModelPrice.simple("a", usd("10"), usd("50"));
        ModelPrice b = ModelPrice.simple("b", usd("20"), usd("5"));
        ModelPrice c = new ModelPrice("c", usd("1"), usd("1"), usd("30"), usd("2"), usd("40"), usd("60"), usd("3"));
        ModelPrice unknown = new PriceTable(List.of(a, b, c)).match("zzz").price();
        assertThat(unknown.rate(TokenKind.TEXT_INPUT)).isEqualTo(usd("20"));
        assertThat(unknown.rate(TokenKind.AUDIO_INPUT)).isEqualTo(usd("40"));
        assertThat(unknown.rate(TokenKind.CACHED_INPUT)).isEqualTo(usd("30"));
        assertThat(unknown.rate(TokenKind.TEXT_OUTPUT)).isEqualTo(usd("60"));
        assertThat(unknown.rate(TokenKind.AUDIO_OUTPUT)).isEqualTo(usd("50"));
    }

    @Test
    void unknownModelIsNeverCheaperThanAnyKnownModel() {
        ModelPrice a = ModelPrice.simple("a", usd("10"), usd("50"));
        ModelPrice b = ModelPrice.simple("b", usd("20"), usd("5"));
        ModelPrice c = new ModelPrice("c", usd("1"), usd("1"), usd("30"), usd("2"), usd("40"), usd("60"), usd("3"));
        PriceTable t = new PriceTable(List.of(a, b, c));
        List<TokenUsage> usages = List.of(
                TokenUsage.totals(1_000, 0),
                TokenUsage.totals(0, 1_000),
                TokenUsage.totals(123_456, 654_321),
                new TokenUsage(1_000, 500, 400L, 600L, 300L, null, 300L, 200L),
                new TokenUsage(1_000, 500, 100L, 900L, 900L, 800L, 500L, 0L),
                new TokenUsage(2_000, 900, 300L, 500L, 100L, null, 100L, 100L));
        for (TokenUsage u : usages) {
            long unknownCost = t.price("not-configured", u).costNanoUsd();
            for (String known : List.of("a", "b", "c")) {
                assertThat(unknownCost).as("%s vs %s", u, known).isGreaterThanOrEqualTo(t.price(known, u).costNanoUsd());
            }
        }
    }

    @Test
    void refusesAModelPricedTwiceEvenInAnotherSpelling() {
        assertThatThrownBy(() -> new PriceTable(List.of(
                ModelPrice.simple("gpt-5", usd("10"), usd("30")),
                ModelPrice.simple(" GPT-5", usd("11"), usd("30")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gpt-5");
    }

    @Test
    void refusesAnEmptyTable() {
        assertThatThrownBy(() -> new PriceTable(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void versionIsStableForEqualContentWhateverTheOrder() {
        ModelPrice a = ModelPrice.simple("gpt-5", usd("10"), usd("30"));
        ModelPrice b = ModelPrice.simple("gpt-5-mini", usd("3"), usd("15"));
        Map<String, Long> fees1 = new LinkedHashMap<>();
        fees1.put("web_search", usd("0.01"));
        fees1.put("image", usd("0.04"));
        Map<String, Long> fees2 = new LinkedHashMap<>();
        fees2.put("image", usd("0.04"));
        fees2.put("web_search", usd("0.01"));

        String v1 = new PriceTable(List.of(a, b), fees1).version();
        String v2 = new PriceTable(List.of(b, a), fees2).version();
        assertThat(v1).isEqualTo(v2).matches("[0-9a-f]{12}");
        assertThat(PriceTable.defaults().version()).isEqualTo(PriceTable.defaults().version());
    }

    @Test
    void versionChangesWhenAnyPriceOrFeeChanges() {
        long ten = usd("10");
        long thirty = usd("30");
        List<PriceTable> variants = new ArrayList<>();
        variants.add(new PriceTable(List.of(ModelPrice.simple("m", ten, thirty)), Map.of("web_search", 10L)));
        variants.add(new PriceTable(List.of(ModelPrice.simple("m", ten + 1, thirty)), Map.of("web_search", 10L)));
        variants.add(new PriceTable(List.of(ModelPrice.simple("m", ten, thirty + 1)), Map.of("web_search", 10L)));
        variants.add(new PriceTable(List.of(ModelPrice.simple("m", ten, thirty)), Map.of("web_search", 11L)));
        variants.add(new PriceTable(List.of(ModelPrice.simple("m", ten, thirty)), Map.of("web_search", 10L, "x", 1L)));
        variants.add(new PriceTable(List.of(ModelPrice.simple("m", ten, thirty)), Map.of()));
        variants.add(new PriceTable(List.of(ModelPrice.simple("m2", ten, thirty)), Map.of("web_search", 10L)));
        variants.add(new PriceTable(List.of(ModelPrice.simple("m", ten, thirty), ModelPrice.simple("n", 1, 1)),
                Map.of("web_search", 10L)));
        Long[] parts = {null, null, null, null, null};
        for (int i = 0; i < parts.length; i++) {
            Long[] p = parts.clone();
            p[i] = i < 3 ? ten - 1 : thirty - 1;
            variants.add(new PriceTable(List.of(new ModelPrice("m", ten, thirty, p[0], p[1], p[2], p[3], p[4])),
                    Map.of("web_search", 10L)));
        }
        Set<String> versions = new HashSet<>();
        for (PriceTable t : variants) {
            versions.add(t.version());
        }
        assertThat(versions).as("every variant has its own version").hasSize(variants.size());
    }

    @Test
    void versionChangesWhenAPerMinutePriceChanges() {
        List<ModelPrice> m = List.of(ModelPrice.simple("m", usd("10"), usd("30")));
        Set<String> versions = new HashSet<>();
        versions.add(new PriceTable(m, Map.of()).version());
        versions.add(new PriceTable(m, Map.of(), Map.of("whisper-1", usd("0.006"))).version());
        versions.add(new PriceTable(m, Map.of(), Map.of("whisper-1", usd("0.007"))).version());
        versions.add(new PriceTable(m, Map.of(), Map.of("whisper-2", usd("0.006"))).version());
        assertThat(versions).hasSize(4);
    }

    // ---- duration-billed transcription ----

    private static TokenUsage seconds(String s) {
        return TokenUsage.durationSeconds(new BigDecimal(s));
    }

    @Test
    void aMinuteOfWhisperCostsItsPerMinutePriceExactly() {
        PriceTable.Priced p = DEFAULTS.price("whisper-1", seconds("60"));
        assertThat(p.costNanoUsd()).isEqualTo(usd("0.006"));
        assertThat(p.tokens()).isEqualTo(TokenCounts.ZERO);
        assertThat(p.match().known()).isTrue();
        assertThat(p.match().label()).isEqualTo("whisper-1");
        assertThat(DEFAULTS.price("gpt-4o-mini-transcribe", seconds("60")).costNanoUsd()).isEqualTo(usd("0.003"));
        assertThat(DEFAULTS.price(" GPT-4o-Transcribe ", seconds("600")).costNanoUsd()).isEqualTo(usd("0.06"));
        assertThat(DEFAULTS.price("gpt-4o-transcribe-2025-03-20", seconds("30")).costNanoUsd())
                .as("a dated snapshot").isEqualTo(usd("0.003"));
    }

    @Test
    void aDurationIsPricedToTheNanoDollarRoundedUpOncePerReport() {
        // 0.006 USD per minute = 100 nano-USD per millisecond
        assertThat(DEFAULTS.price("whisper-1", seconds("0.001")).costNanoUsd()).isEqualTo(100);
        assertThat(DEFAULTS.price("whisper-1", seconds("1.5")).costNanoUsd()).isEqualTo(150_000);
        // 0.003 per minute = 50 nano per ms; 1 ms rounded up from 0.0001 s
        assertThat(DEFAULTS.price("gpt-4o-mini-transcribe", seconds("0.0001")).costNanoUsd()).isEqualTo(50);
        PriceTable odd = new PriceTable(List.of(ModelPrice.simple("m", 1, 1)), Map.of(), Map.of("w", 7L));
        assertThat(odd.price("w", seconds("1")).costNanoUsd()).as("7 nano per minute for 1 s: 0.1167 nano, up to 1").isEqualTo(1);
        assertThat(DEFAULTS.price("whisper-1", seconds("0")).costNanoUsd()).isZero();
        assertThat(DEFAULTS.price("whisper-1", seconds("86400")).costNanoUsd()).isEqualTo(usd("8.64"));
    }

    @Test
    void aDurationOfAModelWithoutAPerMinutePricePaysTheDearestOne() {
        PriceTable.Priced p = DEFAULTS.price("mystery-transcriber", seconds("60"));
        assertThat(p.costNanoUsd()).isEqualTo(usd("0.006"));
        assertThat(p.match().known()).isFalse();
        assertThat(p.match().label()).isEqualTo("unknown");
        assertThat(DEFAULTS.price("gpt-realtime", seconds("60")).match().known())
                .as("a token price is no per-minute price").isFalse();
    }

    @Test
    void aModelIsPricedWhenItHasEitherKindOfPrice() {
        assertThat(DEFAULTS.priced("gpt-realtime")).isTrue();
        assertThat(DEFAULTS.priced("whisper-1")).isTrue();
        assertThat(DEFAULTS.priced("gpt-4o-transcribe-2025-03-20")).isTrue();
        assertThat(DEFAULTS.priced("mystery-transcriber")).isFalse();
        assertThat(DEFAULTS.priced(null)).isFalse();
    }

    @Test
    void refusesNegativeOrDuplicatePerMinutePrices() {
        List<ModelPrice> m = List.of(ModelPrice.simple("m", 1, 1));
        assertThatThrownBy(() -> new PriceTable(m, Map.of(), Map.of("w", -1L))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PriceTable(m, Map.of(), Map.of("W", 1L, " w", 2L))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void roundsAFractionOfANanoDollarUp() {
        long tiny = usd("0.000001"); // USD per 1M tokens: one token costs a thousandth of a nano-dollar
        PriceTable t = new PriceTable(List.of(ModelPrice.simple("tiny", tiny, tiny)));
        assertThat(t.price("tiny", TokenUsage.totals(1, 0)).costNanoUsd()).isEqualTo(1);
        assertThat(t.price("tiny", TokenUsage.totals(0, 1)).costNanoUsd()).isEqualTo(1);
        assertThat(t.price("tiny", TokenUsage.totals(1_000, 0)).costNanoUsd()).as("exact, not rounded up").isEqualTo(1);
        assertThat(t.price("tiny", TokenUsage.totals(1_001, 0)).costNanoUsd()).isEqualTo(2);
        assertThat(t.price("tiny", TokenUsage.totals(0, 0)).costNanoUsd()).isZero();
    }

    @Test
    void roundsUpOnceForTheWholeReportNotPerKind() {
        long tiny = usd("0.000001");
        PriceTable t = new PriceTable(List.of(ModelPrice.simple("tiny", tiny, tiny)));
        // 1 in + 1 out = 0.002 nano: one nano, not one per kind
        assertThat(t.price("tiny", TokenUsage.totals(1, 1)).costNanoUsd()).isEqualTo(1);
        assertThat(t.price("tiny", new TokenUsage(3, 2, 1L, 1L, 1L, null, 1L, 1L)).costNanoUsd()).isEqualTo(1);
    }

    @Test
    void exactCostsAreNotRoundedUp() {
        assertThat(DEFAULTS.price("gpt-5", TokenUsage.totals(1, 0)).costNanoUsd()).isEqualTo(10_000);
        assertThat(DEFAULTS.price("gpt-5", TokenUsage.totals(0, 1)).costNanoUsd()).isEqualTo(30_000);
    }

    @Test
    void pricedCarriesTheSplitTokensAndTheMatch() {
        PriceTable.Priced p = DEFAULTS.price("GPT-5", TokenUsage.totals(100_000, 200_000));
        assertThat(p.tokens()).isEqualTo(TokenCounts.of(100_000, 0, 0, 200_000, 0));
        assertThat(p.match().label()).isEqualTo("gpt-5");
    }

    @Test
    void toolFeesAreFixedPerCallAndZeroForOtherTools() {
        PriceTable t = new PriceTable(DEFAULTS.models().values().stream().toList(), Map.of("web_search", usd("0.01")));
        assertThat(t.toolFeeNanoUsd("web_search")).isEqualTo(10_000_000L);
        assertThat(t.toolFeeNanoUsd("calculator")).isZero();
        assertThat(DEFAULTS.toolFeeNanoUsd("web_search")).isZero();
    }

    @Test
    void refusesNegativeOrAbsurdToolFees() {
        List<ModelPrice> models = List.of(ModelPrice.simple("m", 1, 1));
        assertThatThrownBy(() -> new PriceTable(models, Map.of("web_search", -1L))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PriceTable(models, Map.of("web_search", usd("100000.000000001"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(new PriceTable(models, Map.of("web_search", usd("100000"))).toolFeeNanoUsd("web_search")).isEqualTo(usd("100000"));
    }
}
