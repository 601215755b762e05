package ducke.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import ducke.core.cost.ModelPrice;
import ducke.core.cost.Money;
import ducke.core.cost.PriceTable;
import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Digits;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code prices} block: USD per one million tokens by model, USD per minute of audio for
 * duration-billed transcription, and fixed fees per tool call.
 */
public class PricesFactory {

    /** One model's prices; the realtime split parts are optional. */
    public static class Model {
        @NotNull @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9)
        private BigDecimal input;
        @NotNull @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9)
        private BigDecimal output;
        @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9)
        private BigDecimal cachedInput;
        @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9)
        private BigDecimal textInput;
        @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9)
        private BigDecimal audioInput;
        @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9)
        private BigDecimal textOutput;
        @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9)
        private BigDecimal audioOutput;

        public Model() {
        }

        Model(String input, String output) {
            this.input = new BigDecimal(input);
            this.output = new BigDecimal(output);
        }

        @JsonProperty public BigDecimal getInput() { return input; }
        @JsonProperty public BigDecimal getOutput() { return output; }
        @JsonProperty public BigDecimal getCachedInput() { return cachedInput; }
        @JsonProperty public BigDecimal getTextInput() { return textInput; }
        @JsonProperty public BigDecimal getAudioInput() { return audioInput; }
        @JsonProperty public BigDecimal getTextOutput() { return textOutput; }
        @JsonProperty public BigDecimal getAudioOutput() { return audioOutput; }
        @JsonProperty public void setInput(BigDecimal v) { input = v; }
        @JsonProperty public void setOutput(BigDecimal v) { output = v; }
        @JsonProperty public void setCachedInput(BigDecimal v) { cachedInput = v; }
        @JsonProperty public void setTextInput(BigDecimal v) { textInput = v; }
        @JsonProperty public void setAudioInput(BigDecimal v) { audioInput = v; }
        @JsonProperty public void setTextOutput(BigDecimal v) { textOutput = v; }
        @JsonProperty public void setAudioOutput(BigDecimal v) { audioOutput = v; }

        ModelPrice build(String name) {
            return new ModelPrice(name, Money.nanoUsd(input), Money.nanoUsd(output), nano(cachedInput), nano(textInput),
                    nano(audioInput), nano(textOutput), nano(audioOutput));
        }

        private static Long nano(BigDecimal usd) {
            return usd == null ? null : Money.nanoUsd(usd);
        }
    }

    @Valid
    @NotEmpty
    private Map<String, Model> models = new LinkedHashMap<>(Map.of(
            "gpt-5", new Model("10.00", "30.00"),
            "gpt-5-mini", new Model("3.00", "15.00"),
            "gpt-realtime", new Model("100.00", "200.00")));

    @NotNull
    private Map<String, @NotNull @DecimalMin("0") @Digits(integer = 6, fraction = 9) BigDecimal> toolFees = new LinkedHashMap<>();

    @NotNull
    private Map<String, @NotNull @DecimalMin("0") @DecimalMax("100000") @Digits(integer = 6, fraction = 9) BigDecimal> perMinute =
            new LinkedHashMap<>(Map.of("whisper-1", new BigDecimal("0.006"), "gpt-4o-transcribe", new BigDecimal("0.006"),
                    "gpt-4o-mini-transcribe", new BigDecimal("0.003")));

    public Map<String, Model> getModels() { return models; }
    public void setModels(Map<String, Model> models) { this.models = models; }
    public Map<String, BigDecimal> getToolFees() { return toolFees; }
    public void setToolFees(Map<String, BigDecimal> toolFees) { this.toolFees = toolFees; }
    public Map<String, BigDecimal> getPerMinute() { return perMinute; }
    public void setPerMinute(Map<String, BigDecimal> perMinute) { this.perMinute = perMinute; }

    @AssertTrue(message = "model names must be unique ignoring case and surrounding spaces")
    public boolean isModelNamesUnique() {
        return unique(models.keySet()) && unique(perMinute.keySet());
    }

    private static boolean unique(java.util.Set<String> names) {
        return names.stream().map(k -> k.strip().toLowerCase(java.util.Locale.ROOT)).distinct().count() == names.size();
    }

    public PriceTable build() {
        List<ModelPrice> prices = new ArrayList<>();
        models.forEach((name, m) -> prices.add(m.build(name)));
        Map<String, Long> fees = new LinkedHashMap<>();
        toolFees.forEach((tool, usd) -> fees.put(tool, Money.nanoUsd(usd)));
        Map<String, Long> minutes = new LinkedHashMap<>();
        perMinute.forEach((model, usd) -> minutes.put(model, Money.nanoUsd(usd)));
        return new PriceTable(prices, fees, minutes);
    }
}
