package ducke.core.cost;

/** Tells every node at once that the breaker changed state. */
public interface BreakerBroadcast {
    void publish(SpendLedger.Snapshot snapshot);
}
