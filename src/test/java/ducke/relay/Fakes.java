package ducke.relay;

/** Starts fakes in static initialisers, where checked exceptions cannot be thrown. */
final class Fakes {
    private Fakes() {
    }

    static FakeUpstream upstream() {
        try {
            return new FakeUpstream();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the local upstream", e);
        }
    }
}
