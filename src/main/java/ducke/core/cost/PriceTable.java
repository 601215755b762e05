package ducke.core.cost;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The configured prices: per million tokens by model, per minute of audio for duration-billed
 * transcription, and fixed fees per tool call. Model names match case-insensitively after
 * trimming; a dated snapshot ({@code gpt-realtime-2025-08-28}) takes the longest configured
 * prefix; an unknown model is priced at the most expensive configured rate of every kind (per
 * minute: the dearest per-minute rate). Immutable; its {@link #version()} is a hash of its
 * content, and within the cluster's settings ({@link #versioned}) the settings version and that
 * hash ({@code v7-0a1b2c3d4e5f}); it is recorded with every charge and carried by every
 * {@link Priced}, so a charge's cost and the version it names come from one table.
 */
public final class PriceTable {

    /** 100,000 USD per million tokens: anything above is a configuration mistake. */
    static final long MAX_RATE_NANO_PER_MILLION = 100_000L * Money.NANOS_PER_USD;
    private static final BigInteger MILLION = BigInteger.valueOf(1_000_000);

    /** What a dated snapshot adds to its model's name, e.g. {@code -2025-08-28}. */
    private static final Pattern SNAPSHOT_SUFFIX = Pattern.compile("-\\d{4}-\\d{2}-\\d{2}");

    /** Label of the price used for models that match nothing. */
    public static final String UNKNOWN = "unknown";

    /**
     * A model name resolved to its price. For a duration report the price names the per-minute
     * price used (or {@link #UNKNOWN}) and its token rates are zero.
     */
    public record Match(ModelPrice price, boolean known) {
        /** The configured model name, or {@link #UNKNOWN}: bounded, fit for a metric label. */
        public String label() {
            return known ? price.model() : UNKNOWN;
        }
    }

    /** The cost of one report, rounded up to the nano-dollar once, its tokens by kind, and the version of the table that priced it. */
    public record Priced(long costNanoUsd, TokenCounts tokens, Match match, String version) {
    }

    private final TreeMap<String, ModelPrice> byName = new TreeMap<>();
    private final TreeMap<String, Long> toolFees = new TreeMap<>();
    private final TreeMap<String, Long> perMinute = new TreeMap<>();
    private final ModelPrice unknown;
    private final long dearestPerMinute;
    private final String hash;
    private final String version;

    public PriceTable(List<ModelPrice> prices) {
        this(prices, Map.of());
    }

    public PriceTable(List<ModelPrice> prices, Map<String, Long> toolFeesNanoUsd) {
        this(prices, toolFeesNanoUsd, Map.of());
    }

    /**
     * @param toolFeesNanoUsd     fixed fee per call of a tool, e.g. {@code web_search}
     * @param perMinuteNanoUsd    nano-USD per minute of audio of duration-billed models, e.g. {@code whisper-1}
     */
    public PriceTable(List<ModelPrice> prices, Map<String, Long> toolFeesNanoUsd, Map<String, Long> perMinuteNanoUsd) {
        if (prices.isEmpty()) {
            throw new IllegalArgumentException("at least one model must be priced");
        }
        for (ModelPrice p : prices) {
            if (byName.put(p.model(), p) != null) {
                throw new IllegalArgumentException("model '" + p.model() + "' is priced twice");
            }
        }
        toolFeesNanoUsd.forEach((tool, fee) -> {
            if (fee < 0 || fee > MAX_RATE_NANO_PER_MILLION) {
                throw new IllegalArgumentException("fee of tool '" + tool + "' out of range");
            }
            toolFees.put(tool, fee);
        });
        perMinuteNanoUsd.forEach((model, rate) -> {
            if (model == null || model.isBlank() || rate < 0 || rate > MAX_RATE_NANO_PER_MILLION) {
                throw new IllegalArgumentException("per-minute price of '" + model + "' out of range");
            }
            if (perMinute.put(normalise(model), rate) != null) {
                throw new IllegalArgumentException("model '" + model + "' is priced per minute twice");
            }
        });
        this.unknown = ModelPrice.mostExpensive(UNKNOWN, byName.values());
        this.dearestPerMinute = perMinute.values().stream().mapToLong(Long::longValue).max().orElse(0);
        this.hash = hash(byName, toolFees, perMinute);
        this.version = hash;
    }

    private PriceTable(PriceTable same, String version) {
        byName.putAll(same.byName);
        toolFees.putAll(same.toolFees);
        perMinute.putAll(same.perMinute);
        this.unknown = same.unknown;
        this.dearestPerMinute = same.dearestPerMinute;
        this.hash = same.hash;
        this.version = version;
    }

    /** The same prices as version {@code settingsVersion} of the cluster's settings: {@code v7-<hash>}. */
    public PriceTable versioned(long settingsVersion) {
        String v = "v" + settingsVersion + "-" + hash;
        return v.equals(version) ? this : new PriceTable(this, v);
    }

    /** The prices of the original service. */
    public static PriceTable defaults() {
        return new PriceTable(List.of(
                ModelPrice.simple("gpt-5", Money.nanoUsd("10.00"), Money.nanoUsd("30.00")),
                ModelPrice.simple("gpt-5-mini", Money.nanoUsd("3.00"), Money.nanoUsd("15.00")),
                ModelPrice.simple("gpt-realtime", Money.nanoUsd("100.00"), Money.nanoUsd("200.00"))),
                Map.of(), Map.of("whisper-1", Money.nanoUsd("0.006"), "gpt-4o-transcribe", Money.nanoUsd("0.006"),
                        "gpt-4o-mini-transcribe", Money.nanoUsd("0.003")));
    }

    public String version() {
        return version;
    }

    /** The fixed fee of one call of {@code tool} in nano-USD; 0 when it has none. */
    public long toolFeeNanoUsd(String tool) {
        return toolFees.getOrDefault(tool, 0L);
    }

    /** Fixed fee per call by tool, nano-USD. */
    public Map<String, Long> toolFeesNanoUsd() {
        return Collections.unmodifiableMap(toolFees);
    }

    public Map<String, ModelPrice> models() {
        return Map.copyOf(byName);
    }

    /** Per-minute prices by normalised model name, nano-USD per minute of audio. */
    public Map<String, Long> perMinute() {
        return Map.copyOf(perMinute);
    }

    public Match match(String model) {
        String best = bestName(byName.keySet(), model);
        return best == null ? new Match(unknown, false) : new Match(byName.get(best), true);
    }

    /** Whether two model names name the same model (compared as configured names are). */
    public static boolean sameModel(String a, String b) {
        return normalise(a).equals(normalise(b));
    }

    /** Whether {@code model} has a price of its own, per token or per minute (else it pays the dearest rates). */
    public boolean priced(String model) {
        return bestName(byName.keySet(), model) != null || bestName(perMinute.keySet(), model) != null;
    }

    /**
     * Prices one report: tokens by the model's rates, a duration report by its per-minute rate
     * (the dearest per-minute rate when it has none), rounded up to the nano-dollar once.
     */
    public Priced price(String model, TokenUsage usage) {
        if (usage.billedByDuration()) {
            return priceDuration(model, usage.durationMillis());
        }
        Match m = match(model);
        TokenCounts tokens = usage.split(m.price());
        BigInteger total = BigInteger.ZERO;
        for (TokenKind k : TokenKind.values()) {
            total = total.add(BigInteger.valueOf(tokens.get(k)).multiply(BigInteger.valueOf(rate(m.price(), k, usage))));
        }
        BigInteger[] qr = total.divideAndRemainder(MILLION);
        long cost = qr[0].longValueExact() + (qr[1].signum() > 0 ? 1 : 0);
        return new Priced(cost, tokens, m, version);
    }

    private Priced priceDuration(String model, long durationMillis) {
        String best = bestName(perMinute.keySet(), model);
        long rate = best == null ? dearestPerMinute : perMinute.get(best);
        BigInteger[] qr = BigInteger.valueOf(durationMillis).multiply(BigInteger.valueOf(rate))
                .divideAndRemainder(BigInteger.valueOf(60_000));
        long cost = qr[0].longValueExact() + (qr[1].signum() > 0 ? 1 : 0);
        Match m = new Match(ModelPrice.simple(best == null ? UNKNOWN : best, 0, 0), best != null);
        return new Priced(cost, TokenCounts.ZERO, m, version);
    }

    /** The longest configured name that {@code model} is, or is a dated snapshot of; null when none. */
    private static String bestName(Iterable<String> names, String model) {
        String name = normalise(model == null ? "" : model);
        String best = null;
        for (String candidate : names) {
            boolean matches = name.equals(candidate)
                    || (name.startsWith(candidate) && SNAPSHOT_SUFFIX.matcher(name.substring(candidate.length())).matches());
            if (matches && (best == null || candidate.length() > best.length())) {
                best = candidate;
            }
        }
        return best;
    }

    /** The split is priced only when the report carries it; plain totals pay the plain rates. */
    private static long rate(ModelPrice p, TokenKind k, TokenUsage usage) {
        if (k == TokenKind.TEXT_INPUT && !usage.inputDetailed()) {
            return p.input();
        }
        if (k == TokenKind.TEXT_OUTPUT && !usage.outputDetailed()) {
            return p.output();
        }
        return p.rate(k);
    }

    /** The form model names are compared in: trimmed, lower case. */
    static String normalise(String model) {
        return model.strip().toLowerCase(Locale.ROOT);
    }

    private static String hash(Map<String, ModelPrice> prices, Map<String, Long> fees, Map<String, Long> perMinute) {
        StringBuilder canonical = new StringBuilder();
        fees.forEach((tool, fee) -> canonical.append("tool|").append(tool).append('|').append(fee).append('\n'));
        perMinute.forEach((model, rate) -> canonical.append("minute|").append(model).append('|').append(rate).append('\n'));
        prices.forEach((name, p) -> {
            canonical.append(name);
            for (TokenKind k : TokenKind.values()) {
                canonical.append('|').append(p.rate(k));
            }
            canonical.append('\n');
        });
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
