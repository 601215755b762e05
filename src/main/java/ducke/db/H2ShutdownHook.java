package ducke.db;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;

/**
 * An embedded H2 database closes itself in a JVM shutdown hook of its own. On SIGTERM that hook
 * runs alongside the application's graceful stop, so the last node's final session records met a
 * closed database ("Database is already closed") and fell back to their last checkpoint.
 * {@code DB_CLOSE_ON_EXIT=FALSE} would keep it open, but H2 refuses it together with
 * {@code AUTO_SERVER=TRUE}, which the {@code audit} command needs to read a running node's file. So
 * the hook is withdrawn for good: H2 adds it whenever a database opens and removes it when the last
 * one closes (the migrations' connection does), so besides removing it this marks H2's closer as
 * done, which makes H2 skip both from then on. The connection pool, stopped with the application
 * after the last records are written, closes the database. A JVM that dies without stopping
 * leaves the file as a crash would; H2 recovers it. Verified against H2 2.4 by {@code LoneNodeStopIT}.
 */
public final class H2ShutdownHook {

    private static final Logger LOG = LoggerFactory.getLogger(H2ShutdownHook.class);

    private H2ShutdownHook() {
    }

    /** Withdraws H2's hook now and for every database this JVM opens later; false when that failed. */
    public static boolean withdraw() {
        try {
            Class<?> closer = Class.forName("org.h2.engine.OnExitDatabaseCloser");
            synchronized (closer) { // H2's register and unregister are static synchronized
                Field terminated = closer.getDeclaredField("terminated");
                terminated.setAccessible(true);
                terminated.setBoolean(null, true);
                Field instance = closer.getDeclaredField("INSTANCE");
                instance.setAccessible(true);
                Runtime.getRuntime().removeShutdownHook((Thread) instance.get(null));
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Could not withdraw H2's shutdown hook; on SIGTERM the last records may be written only at the next start: {}",
                    e.toString());
            return false;
        }
    }
}
