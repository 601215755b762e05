package ducke.audit;

import ducke.core.cost.ApiReservations;
import ducke.errors.WarnGate;
import io.dropwizard.lifecycle.Managed;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Charges the session API's expired reservations that this node owns ({@link ApiReservations#sweep})
 * every sweep interval, on a thread of its own; a reservation owned by a node that stopped or died is
 * swept by the member its grid partition moved to.
 */
public final class ReservationSweeper implements Managed {

    private static final Logger LOG = LoggerFactory.getLogger(ReservationSweeper.class);

    private final ApiReservations reservations;
    private final Clock clock;
    private final long intervalMillis;
    private final ScheduledExecutorService scheduler;

    public ReservationSweeper(ApiReservations reservations, Clock clock, long intervalMillis, String nodeName) {
        this.reservations = reservations;
        this.clock = clock;
        this.intervalMillis = intervalMillis;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ducke-reservation-sweep-" + nodeName);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void start() {
        scheduler.scheduleWithFixedDelay(this::pass, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    private void pass() {
        try {
            log(reservations.sweep(clock.millis()), "expired");
        } catch (RuntimeException e) {
            // a grid that cannot answer fails every pass (each second by default): once a minute is enough to say so
            if (failures.open(TimeUnit.NANOSECONDS.toMillis(System.nanoTime()))) {
                LOG.warn("Reservation sweep failed ({}); the next passes try again", e.toString());
            }
        }
    }

    private final WarnGate failures = new WarnGate(60_000);

    /** One line per pass that did something; {@code why} says which reservations it charged ("expired"). */
    public static void log(ApiReservations.Swept swept, String why) {
        if (swept.charged() > 0) {
            LOG.info("Charged {} reservation(s) of the session API their amount (estimated): {}", swept.charged(), why);
        }
        if (swept.dropped() > 0) {
            LOG.warn("Dropped {} reservation(s) uncharged: their sessions' ledgers were gone", swept.dropped());
        }
        if (swept.failed() > 0) {
            LOG.warn("Reservations of {} session(s) not swept (the next pass tries again); last: {}", swept.failed(),
                    swept.lastFailure());
        }
    }

    @Override
    public void stop() throws InterruptedException {
        scheduler.shutdownNow();
        scheduler.awaitTermination(5, TimeUnit.SECONDS);
    }
}
