package ducke.core.ratelimit;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tokens this node took from shared buckets ahead of its requests (see {@link TokenBuckets#take}),
 * spent here without a grid call. Thread-safe: every leased token is either spent by exactly one
 * request or given back by exactly one caller, never both.
 *
 * <p>How much a node asks for follows its own demand for the key: nothing beyond the request's own
 * token the first time, then twice the last grant while leases run out before they end (at most
 * {@link #MAX_LEASE_TOKENS}), and what was actually used once a lease ended with tokens left. The
 * bucket caps every grant at 1/{@link TokenBuckets#LEASE_SHARE} of what it holds, so the last
 * tokens of a bucket always go one by one. A lease lasts {@link #LEASE_MILLIS}; afterwards its
 * unused tokens are given back ({@link #endExpired}). Resets drop leases without giving them back
 * ({@link #forget}); a lease granted before a reset and answered after it is never kept.
 *
 * <p>One grid call renews a lease. Requests that find the lease spent while that call is under way
 * wait for it ({@link #await}) and spend the new lease, instead of each asking the grid for a single
 * token: under steady load a node makes one grid call per lease, not one per request that arrived
 * during a renewal (calls for one key queue on one partition thread, so a crowd of them feeds itself).
 *
 * <p>Bounded: at most {@code maxEntries} keys are tracked (beyond that, checks take single tokens).
 */
public final class LocalLeases {

    /** How long a node spends a lease before giving back what is left. */
    public static final long LEASE_MILLIS = 500;

    /** The most tokens one node asks for in one grid call. */
    public static final long MAX_LEASE_TOKENS = 256;

    /** A lease ended by this node whose unused tokens go back to the bucket of {@code key}. */
    public record Ended(String key, LimitPolicy policy, LeaseReturn giveBack) {
    }

    /**
     * What one grid call asks for, and the lease of this node that it ends (null: none); or, with
     * {@code awaiting} set and no ask, a renewal already under way that the caller should wait for.
     */
    public record Renewal(LeaseAsk ask, Lease ending, Lease awaiting) {
        static final Renewal SINGLE = new Renewal(LeaseAsk.ONE, null, null);

        /** True when another request is renewing the lease: {@link #await} it instead of calling the grid. */
        public boolean waits() {
            return awaiting != null;
        }
    }

    /** How a renewal that others waited for came out. */
    public enum Settled {
        /** Granted, refused or given up: look at the leases and denials again. */
        DONE,
        /** The store could not answer: the waiters fail open or closed like the renewer did. */
        UNAVAILABLE,
        /** It did not settle in time. */
        PENDING
    }

    /** The longest a request waits for another's renewal; the renewal's grid call has its own, shorter timeout. */
    static final long RENEWAL_WAIT_MILLIS = 1_000;

    /** One grant: {@code leased} tokens beyond the request that took them, spendable until {@code untilMillis}. */
    public static final class Lease {
        private final LimitPolicy policy;
        private final Decision grant;
        private final long leased;
        private final long grantedAtMillis;
        private final long untilMillis;
        private final AtomicLong left;
        private final AtomicBoolean ended = new AtomicBoolean();
        /** Completed when the grid call that ended this lease has been answered. */
        private final CompletableFuture<Settled> renewed = new CompletableFuture<>();

        Lease(LimitPolicy policy, Decision grant, long grantedAtMillis, long untilMillis) {
            this.policy = policy;
            this.grant = grant;
            this.leased = grant.leased();
            this.grantedAtMillis = grantedAtMillis;
            this.untilMillis = untilMillis;
            this.left = new AtomicLong(leased);
        }

        /**
         * Whether the lease may still be spent at {@code nowMillis}. A time before the grant is a
         * concurrent request that read the clock a moment earlier: the lease runs for it too.
         */
        boolean runs(long nowMillis) {
            return nowMillis < untilMillis;
        }

        /**
         * The headers' view of a request served at {@code nowMillis} with {@code leftAfter} lease
         * tokens still here: what the bucket held after the grant plus this node's unspent tokens,
         * and when it would be full again with the lease tokens spent so far counted as taken
         * (rounded up by at most a millisecond). What other nodes took since the grant is not seen.
         */
        Decision view(long leftAfter, long nowMillis) {
            Bandwidth shown = grant.limiting();
            long spentMillis = Decision.ceilDiv((leased - leftAfter) * shown.periodMillis(), shown.capacity());
            long reset = Math.max(0, grant.resetMillis() + spentMillis - Math.max(0, nowMillis - grantedAtMillis));
            return new Decision(true, null, grant.limit(), grant.windowSeconds(), grant.remaining() + leftAfter,
                    Math.min(reset, shown.periodMillis()), 0, shown, 0, 1, 0);
        }
    }

    private final Map<String, Lease> leases = new ConcurrentHashMap<>();
    private final AtomicLong epoch;
    private final int maxEntries;

    /** @param epoch bumped by every reset (shared with the node's denial cache) */
    LocalLeases(int maxEntries, AtomicLong epoch) {
        this.maxEntries = maxEntries;
        this.epoch = epoch;
    }

    /** Takes one token of this node's running lease of {@code key}; the request's decision, or null when none is left. */
    public Decision spend(String key, long nowMillis) {
        Lease l = leases.get(key);
        if (l == null || !l.runs(nowMillis)) {
            return null;
        }
        long left;
        do {
            left = l.left.get();
            if (left <= 0) {
                return null;
            }
        } while (!l.left.compareAndSet(left, left - 1));
        return l.view(left - 1, nowMillis);
    }

    /**
     * What to ask the bucket of {@code key} for: ends this node's lease of it (its unused tokens go
     * back in the same call) and sizes the next one by how the last was used. Exactly one caller
     * ends a lease; others meanwhile ask for a single token.
     */
    public Renewal renewal(String key, long nowMillis) {
        Lease l = leases.get(key);
        if (l == null) {
            return Renewal.SINGLE;
        }
        if (!l.ended.compareAndSet(false, true)) {
            // ended by a renewal under way: wait for it when it renews a real lease (a client near its
            // limit takes its tokens one by one, and its requests go to the grid side by side)
            return l.leased > 0 && !l.renewed.isDone() ? new Renewal(null, null, l) : Renewal.SINGLE;
        }
        long unused = l.left.getAndSet(0);
        long want = l.runs(nowMillis)
                ? Math.min(MAX_LEASE_TOKENS, Math.max(2, 2 * (l.leased + 1)))  // ran out early: demand is higher
                : Math.max(1, l.leased - unused + 1);                          // ended with tokens left: what was used
        return new Renewal(new LeaseAsk(want, newGeneration(), nowMillis + LEASE_MILLIS,
                new LeaseReturn(l.grant.leaseGeneration(), l.leased, unused)), l, null);
    }

    /**
     * Waits until the renewal {@code r} waits for has been answered (granted, refused or failed),
     * at most {@link #RENEWAL_WAIT_MILLIS}. Afterwards the caller spends the new lease or finds the
     * refusal in the denial cache, and calls the grid itself only when neither answers.
     */
    public static Settled await(Renewal r) {
        try {
            return r.awaiting().renewed.get(RENEWAL_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return Settled.PENDING;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Settled.PENDING;
        } catch (ExecutionException e) {
            return Settled.DONE;
        }
    }

    /**
     * The grid call of {@code r} has been answered, or failed ({@code outcome}): requests waiting for
     * it go on. Idempotent; the limiter calls it on every path.
     */
    public static void settled(Renewal r, Settled outcome) {
        if (r.ending() != null) {
            r.ending().renewed.complete(outcome);
        }
    }

    /**
     * Keeps what the bucket granted after {@code renewal} and answers the request that asked: its
     * decision as the headers show it. Nothing is kept when a reset happened since {@code epochBefore}.
     */
    public Decision install(String key, LimitPolicy policy, Renewal renewal, Decision granted, long nowMillis,
                            long epochBefore) {
        Lease fresh = new Lease(policy, granted, nowMillis, renewal.ask().untilMillis() == 0
                ? nowMillis + LEASE_MILLIS : renewal.ask().untilMillis());
        boolean kept;
        if (renewal.ending() != null) {
            kept = leases.replace(key, renewal.ending(), fresh);
        } else {
            // a single token: keep the record only to see the demand (nothing is leased)
            kept = fresh.leased == 0 && leases.size() < maxEntries && leases.putIfAbsent(key, fresh) == null;
        }
        if (kept && epoch.get() != epochBefore && leases.remove(key, fresh)) {
            fresh.ended.set(true);
            fresh.left.set(0); // granted before a reset: the bucket it came from is gone
            fresh.renewed.complete(Settled.DONE); // nobody renews it: a request that saw it goes on
        }
        return fresh.view(kept ? fresh.leased : 0, nowMillis);
    }

    /** The grid call of {@code renewal} failed or was refused: the lease it ended is gone. */
    public void abandon(String key, Renewal renewal) {
        if (renewal.ending() != null) {
            leases.remove(key, renewal.ending());
        }
    }

    /** Ends every lease that ran out by {@code nowMillis}; the caller gives back those with tokens outstanding. */
    public List<Ended> endExpired(long nowMillis) {
        return end(nowMillis, false);
    }

    /** Ends every lease, running or not (the node stops); the caller gives back those with tokens outstanding. */
    public List<Ended> endAll(long nowMillis) {
        return end(nowMillis, true);
    }

    private List<Ended> end(long nowMillis, boolean all) {
        List<Ended> ended = new ArrayList<>();
        for (Iterator<Map.Entry<String, Lease>> it = leases.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Lease> e = it.next();
            Lease l = e.getValue();
            if ((all || !l.runs(nowMillis)) && l.ended.compareAndSet(false, true)) {
                long unused = l.left.getAndSet(0);
                leases.remove(e.getKey(), l);
                l.renewed.complete(Settled.DONE);
                if (l.leased > 0) {
                    ended.add(new Ended(e.getKey(), l.policy, new LeaseReturn(l.grant.leaseGeneration(), l.leased, unused)));
                }
            }
        }
        return ended;
    }

    /** Drops the leases of {@code keys} without giving anything back: their buckets were reset. */
    void forget(Iterable<String> keys) {
        for (String k : keys) {
            Lease l = leases.remove(k);
            if (l != null) {
                l.ended.set(true);
                l.left.set(0);
                l.renewed.complete(Settled.DONE);
            }
        }
    }

    /** Leased tokens this node holds unspent for {@code key}. */
    public long unspent(String key) {
        Lease l = leases.get(key);
        return l == null ? 0 : Math.max(0, l.left.get());
    }

    /** Leased tokens this node holds unspent, over all keys. */
    public long unspent() {
        long sum = 0;
        for (Lease l : leases.values()) {
            sum += Math.max(0, l.left.get());
        }
        return sum;
    }

    public int size() {
        return leases.size();
    }

    private static long newGeneration() {
        long g;
        do {
            g = ThreadLocalRandom.current().nextLong();
        } while (g == 0);
        return g;
    }
}
