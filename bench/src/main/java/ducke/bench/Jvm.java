package ducke.bench;

/**
 * Flags for the forked benchmark JVMs: the module openings Hazelcast wants (the main pom's
 * {@code hazelcast.jvm.flags}, one token each), no phone-home, logging through slf4j (logback.xml
 * of this project keeps it at WARN), and a fixed heap so runs compare.
 */
final class Jvm {
    static final String OPEN_LANG = "--add-opens=java.base/java.lang=ALL-UNNAMED";
    static final String OPEN_NIO = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
    static final String OPEN_MANAGEMENT = "--add-opens=java.management/sun.management=ALL-UNNAMED";
    static final String OPEN_COM_SUN_MANAGEMENT = "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED";
    static final String EXPORT_REF = "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED";
    static final String NO_PHONE_HOME = "-Dhazelcast.phone.home.enabled=false";
    static final String SLF4J = "-Dhazelcast.logging.type=slf4j";
    static final String HEAP_MIN = "-Xms1g";
    static final String HEAP_MAX = "-Xmx1g";
    /**
     * Hazelcast completes {@code IMap.submitToKey} futures through its default async executor: the
     * common ForkJoinPool when that has 2 or more threads, else a new thread per callback. The
     * common pool gets (cores - 1) threads, so on 2 cores every grid check starts a thread unless
     * this is set.
     */
    static final String COMMON_POOL_2 = "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2";

    private Jvm() {
    }
}
