package ducke.core.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResponseBudgetTest {

    /** gpt-realtime's default prices: 100 in, 200 out per 1M tokens. */
    private static ResponseBudget realtime() {
        return new ResponseBudget(2_000, Money.nanoUsd("100.00"), Money.nanoUsd("200.00"));
    }

    @Test
    void beforeAnyReportTheFloorIsReservedForInput() {
        ResponseBudget b = realtime();
        // 0.50 - 2,000 in (0.20) = 0.30 = 1,500 out
        assertThat(b.maxOutputTokens(Money.nanoUsd("0.50"))).isEqualTo(1_500);
        assertThat(b.nextInputTokens()).isEqualTo(2_000);
    }

    /**
     * With a response set aside to follow (a spoken goodbye), each output token is priced at the
     * output and the input rate: what the next response writes, the one after reads.
     */
    @Test
    void outputReadAgainPricesEachTokenAsInputToo() {
        ResponseBudget b = realtime();
        b.outputReadAgain(true);
        // 0.50 - 2,000 in (0.20) = 0.30 at 300 per 1M = 1,000 out
        assertThat(b.maxOutputTokens(Money.nanoUsd("0.50"))).isEqualTo(1_000);
        b.outputReadAgain(false);
        assertThat(b.maxOutputTokens(Money.nanoUsd("0.50"))).isEqualTo(1_500);
        assertThat(b.textCostNanoUsd(1_000)).isEqualTo(Money.nanoUsd("0.10"));
    }

    /**
     * The least reservation that pays the next response one output token, as the clamp prices it:
     * with a goodbye set aside (output read again) the input rate is added to that token, so that a
     * reservation of exactly the input and one token at the output rate is not taken for enough.
     */
    @Test
    void theLeastReservationPaysOneTokenAsTheClampPricesIt() {
        ResponseBudget b = realtime();
        // 2,000 in (0.20) and one token at 200 per 1M (0.0002)
        assertThat(b.leastNanoUsd()).isEqualTo(Money.nanoUsd("0.2002"));
        assertThat(b.maxOutputTokens(b.leastNanoUsd())).isEqualTo(1);
        b.outputReadAgain(true);
        // one token at 300 per 1M (0.0003)
        assertThat(b.leastNanoUsd()).isEqualTo(Money.nanoUsd("0.2003"));
        assertThat(b.maxOutputTokens(b.leastNanoUsd())).isEqualTo(1);
        assertThat(b.maxOutputTokens(b.worstCaseNanoUsd(1, 0))).as("input and one token at the output rate only").isZero();
    }

    @Test
    void neverAboveWhatTheProviderAccepts() {
        assertThat(realtime().maxOutputTokens(Money.nanoUsd("5.00"))).isEqualTo(ResponseBudget.PROVIDER_MAX_OUTPUT_TOKENS);
    }

    @Test
    void afterAReportTheContextIsItsInputAndOutput() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(10_000, 5_000));
        assertThat(b.nextInputTokens()).isEqualTo(15_000);
        // 2.00 - 1.50 = 0.50 = 2,500 out
        assertThat(b.maxOutputTokens(Money.nanoUsd("2.00"))).isEqualTo(2_500);
        assertThat(b.canAffordNext(Money.nanoUsd("1.50"))).isFalse();
        assertThat(b.canAffordNext(Money.nanoUsd("1.5002"))).isTrue();
    }

    @Test
    void appendedTextAndAudioGrowTheEstimate() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(100, 0));
        b.textAdded(50);
        b.audioAppended(8_000);
        assertThat(b.nextInputTokens()).isEqualTo(100 + 50 + 10);
    }

    @Test
    void theAudioRatioIsLearnedWithAMarginAndNeverOptimistic() {
        ResponseBudget b = realtime();
        b.audioAppended(640_000);
        b.responseFinished(b.responseStarted(1));
        // the provider counted 100 tokens for 640k chars: 6,400 per token, used as 5,120 (25% more tokens)
        b.reported(new TokenUsage(100, 0, 0L, 100L, null, null, null, null));
        assertThat(b.audioCharsPerToken()).isEqualTo(5_120);
        b.audioAppended(51_200);
        assertThat(b.nextInputTokens()).isEqualTo(100 + 10);
    }

    @Test
    void audioThatNeverReachedTheContextCannotTeachACheaperRatioThanTheFormatCarries() {
        ResponseBudget b = realtime();
        // 1.6M characters appended (and cleared by the client), then a report of only 10 audio tokens:
        // observed 160,000 characters per token
        b.audioAppended(1_600_000);
        b.responseFinished(b.responseStarted(1));
        b.reported(new TokenUsage(1_010, 10, 0L, 10L, null, null, null, null));
        assertThat(b.audioCharsPerToken()).isEqualTo(5_120); // 24 kHz PCM16's 6,400 less the margin
        b.audioAppended(20_000_000);
        // 20M characters of PCM16 are 3,125 tokens; the estimate may be above, never below
        assertThat(b.nextInputTokens() - 1_020).isEqualTo(3_907).isGreaterThanOrEqualTo(3_125);
    }

    @Test
    void aDenserFormatLowersTheCapAndWhatWasLearned() {
        ResponseBudget b = realtime();
        b.audioAppended(640_000);
        b.responseFinished(b.responseStarted(1));
        b.reported(new TokenUsage(100, 0, 0L, 100L, null, null, null, null));
        assertThat(b.audioCharsPerToken()).isEqualTo(5_120);
        b.audioFormat(ResponseBudget.G711_CHARS_PER_TOKEN);
        assertThat(b.audioCharsPerToken()).isEqualTo(852);
        // 8,000 bytes of G.711 a second are 10,667 characters, 10 tokens: estimated 13
        b.audioAppended(10_667);
        assertThat(b.nextInputTokens()).isEqualTo(100 + 13);
        b.audioFormat(ResponseBudget.PCM16_CHARS_PER_TOKEN);
        assertThat(b.audioCharsPerToken()).as("a learned ratio is not raised by a format change").isEqualTo(852);
    }

    @Test
    void tooLittleAudioTeachesNothing() {
        ResponseBudget b = realtime();
        b.audioAppended(1_000);
        b.reported(new TokenUsage(100, 0, 0L, 100L, null, null, null, null));
        assertThat(b.audioCharsPerToken()).isEqualTo(ResponseBudget.DEFAULT_AUDIO_CHARS_PER_TOKEN);
    }

    @Test
    void aResponseInFlightKeepsItsReservationUntilItIsCharged() {
        ResponseBudget b = realtime();
        long reserve = b.responseStarted(1_500);
        assertThat(reserve).isEqualTo(Money.nanoUsd("0.50"));
        assertThat(b.maxOutputTokens(Money.nanoUsd("0.50"))).isZero();
        b.responseFinished(reserve);
        assertThat(b.inFlightReserveNanoUsd()).isZero();
    }

    @Test
    void whatArrivedWhileAResponseRanStaysPending() {
        ResponseBudget b = realtime();
        b.textAdded(100);
        long reserve = b.responseStarted(10);
        b.textAdded(40);
        b.responseFinished(reserve);
        b.reported(TokenUsage.totals(2_100, 10));
        assertThat(b.nextInputTokens()).isEqualTo(2_110 + 40);
    }

    @Test
    void transcribedAudioIsReservedAtTheTranscriptionRateToo() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(0, 0));
        b.audioAppended(800_000);
        long without = b.nextInputCostNanoUsd();
        b.transcribing(Money.nanoUsd("10.00"));
        assertThat(b.nextInputCostNanoUsd() - without).isEqualTo(Money.nanoUsd("0.01"));
    }

    @Test
    void anOutOfBandReportLeavesTheConversationsContextAsItWas() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(10_000, 5_000));
        b.textAdded(100);
        b.responseFinished(b.responseStarted(10));
        // conversation: "none" with an input of its own: tiny, and nothing joins the conversation
        b.reported(TokenUsage.totals(10, 20), ResponseBudget.Scope.OUT_OF_BAND);
        assertThat(b.nextInputTokens()).isEqualTo(15_000 + 100);
        // the next response of the conversation is clamped for the whole context: 2.00 - 1.51 = 0.49 = 2,450 out
        assertThat(b.maxOutputTokens(Money.nanoUsd("2.00"))).isEqualTo(2_450);
    }

    @Test
    void anOutOfBandReportBeforeAnyOtherKeepsTheFloor() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(10, 20), ResponseBudget.Scope.OUT_OF_BAND);
        assertThat(b.nextInputTokens()).isEqualTo(2_000);
    }

    @Test
    void theAnswerToAResponseWithItsOwnInputJoinsTheConversation() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(10_000, 5_000));
        b.responseFinished(b.responseStarted(10));
        b.reported(TokenUsage.totals(30, 400), ResponseBudget.Scope.OWN_INPUT);
        assertThat(b.nextInputTokens()).isEqualTo(15_000 + 400);
        // the conversation's next report covers that answer: it is no longer pending
        b.responseFinished(b.responseStarted(10));
        b.reported(TokenUsage.totals(15_400, 10));
        assertThat(b.nextInputTokens()).isEqualTo(15_410);
    }

    @Test
    void outOfBandReportsTeachNoAudioRatio() {
        ResponseBudget b = realtime();
        b.audioAppended(640_000);
        b.responseFinished(b.responseStarted(1));
        b.reported(new TokenUsage(100, 0, 0L, 100L, null, null, null, null), ResponseBudget.Scope.OUT_OF_BAND);
        b.reported(new TokenUsage(100, 0, 0L, 100L, null, null, null, null), ResponseBudget.Scope.OWN_INPUT);
        assertThat(b.audioCharsPerToken()).isEqualTo(ResponseBudget.DEFAULT_AUDIO_CHARS_PER_TOKEN);
    }

    @Test
    void anItemReferredToAgainCountsAsTheWholeContextEachTime() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(1_000, 0));
        b.repeatedItemReferences(3);
        assertThat(b.nextInputTokens()).isEqualTo(1_000 + 3 * 1_000);
        b.repeatedItemReferences(0);
        assertThat(b.nextInputTokens()).isEqualTo(4_000);
    }

    @Test
    void theHeadroomClampCountsAudioStillToComeWithoutKeepingIt() {
        ResponseBudget b = realtime();
        b.reported(TokenUsage.totals(0, 0));
        b.audioAppended(80_000);
        // 128,000 characters more at 800 a token: 160 tokens of input (0.016), 80 output tokens fewer
        assertThat(b.maxOutputTokens(Money.nanoUsd("0.50"), 128_000)).isEqualTo(b.maxOutputTokens(Money.nanoUsd("0.50")) - 80);
        assertThat(b.nextInputTokens()).as("the audio to come is not kept").isEqualTo(100);
    }

    @Test
    void aReportOfMoreAudioTokensThanCharactersTeachesOneCharacterAToken() {
        ResponseBudget b = realtime();
        b.audioAppended(ResponseBudget.LEARN_MIN_AUDIO_CHARS);
        b.responseFinished(b.responseStarted(1));
        b.reported(new TokenUsage(1_000_000, 0, 0L, 1_000_000L, null, null, null, null));
        assertThat(b.audioCharsPerToken()).isEqualTo(1);
    }

    @Test
    void refusesNonsenseRates() {
        assertThatThrownBy(() -> new ResponseBudget(0, 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ResponseBudget(-1, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
