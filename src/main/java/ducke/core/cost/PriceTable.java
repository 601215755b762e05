package ducke.core.cost;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The configured prices. Model names match case-insensitively after trimming; a dated snapshot
 * ({@code gpt-realtime-2025-08-28}) takes the longest configured prefix; an unknown model is priced
 * at the most expensive configured rate of every kind. Immutable; its {@link #version()} is a hash
 * of its content, recorded with every charge.
 */
public final class PriceTable {

    /** 100,000 USD per million tokens: anything above is a configuration mistake. */
    static final long MAX_RATE_NANO_PER_MILLION = 100_000L * Money.NANOS_PER_USD;
    private static final BigInteger MILLION = BigInteger.valueOf(1_000_000);

    /** What a dated snapshot adds to its model's name, e.g. {@code -2025-08-28}. */
    private static final Pattern SNAPSHOT_SUFFIX = Pattern.compile("-\\d{4}-\\d{2}-\\d{2}");

    /** Label of the price used for models that match nothing. */
    public static final String UNKNOWN = "unknown";

    /** A model name resolved to its price. */
    public record Match(ModelPrice price, boolean known) {
        /** The configured model name, or {@link #UNKNOWN}: bounded, fit for a metric label. */
        public String label() {
            return known ? price.model() : UNKNOWN;
        }
    }

    /** The cost of one report, rounded up to the nano-dollar once, and its tokens by kind. */
    public record Priced(long costNanoUsd, TokenCounts tokens, Match match) {
    }

    private final TreeMap<String, ModelPrice> byName = new TreeMap<>();
    private final TreeMap<String, Long> toolFees = new TreeMap<>();
    private final ModelPrice unknown;
    private final String version;

    public PriceTable(List<ModelPrice> prices) {
        this(prices, Map.of());
    }

    /** @param toolFeesNanoUsd fixed fee per call of a tool, e.g. {@code web_search} */
    public PriceTable(List<ModelPrice> prices, Map<String, Long> toolFeesNanoUsd) {
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
        this.unknown = ModelPrice.mostExpensive(UNKNOWN, byName.values());
        this.version = hash(byName, toolFees);
    }

    /** The prices of the original service. */
    public static PriceTable defaults() {
        return new PriceTable(List.of(
                ModelPrice.simple("gpt-5", Money.nanoUsd("10.00"), Money.nanoUsd("30.00")),
                ModelPrice.simple("gpt-5-mini", Money.nanoUsd("3.00"), Money.nanoUsd("15.00")),
                ModelPrice.simple("gpt-realtime", Money.nanoUsd("100.00"), Money.nanoUsd("200.00"))));
    }

    public String version() {
        return version;
    }

    /** The fixed fee of one call of {@code tool} in nano-USD; 0 when it has none. */
    public long toolFeeNanoUsd(String tool) {
        return toolFees.getOrDefault(tool, 0L);
    }

    public Map<String, ModelPrice> models() {
        return Map.copyOf(byName);
    }

    public Match match(String model) {
        String name = normalise(model == null ? "" : model);
        String best = null;
        for (String candidate : byName.keySet()) {
            boolean matches = name.equals(candidate)
                    || (name.startsWith(candidate) && SNAPSHOT_SUFFIX.matcher(name.substring(candidate.length())).matches());
            if (matches && (best == null || candidate.length() > best.length())) {
                best = candidate;
            }
        }
        return best == null ? new Match(unknown, false) : new Match(byName.get(best), true);
    }

    public Priced price(String model, TokenUsage usage) {
        Match m = match(model);
        TokenCounts tokens = usage.split(m.price());
        BigInteger total = BigInteger.ZERO;
        for (TokenKind k : TokenKind.values()) {
            total = total.add(BigInteger.valueOf(tokens.get(k)).multiply(BigInteger.valueOf(rate(m.price(), k, usage))));
        }
        BigInteger[] qr = total.divideAndRemainder(MILLION);
        long cost = qr[0].longValueExact() + (qr[1].signum() > 0 ? 1 : 0);
        return new Priced(cost, tokens, m);
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

    private static String hash(Map<String, ModelPrice> prices, Map<String, Long> fees) {
        StringBuilder canonical = new StringBuilder();
        fees.forEach((tool, fee) -> canonical.append("tool|").append(tool).append('|').append(fee).append('\n'));
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
