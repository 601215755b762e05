package ducke.cli;

import ducke.DuckeConfiguration;
import ducke.core.cost.Money;
import ducke.db.AuditDao;
import ducke.db.AuditQuery;
import io.dropwizard.core.cli.Cli;
import io.dropwizard.core.cli.ConfiguredCommand;
import io.dropwizard.core.setup.Bootstrap;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code java -jar duck-e.jar audit config.yml --since 24h --group-by model [--format csv]}:
 * a summary of finished sessions from the same audit store the nodes write; with
 * {@code --charges <session-id>}, that session's charges instead. It only reads: a store that
 * does not exist is reported, never created.
 */
public final class AuditCommand extends ConfiguredCommand<DuckeConfiguration> {

    private final Clock clock;
    private final PrintStream out;

    public AuditCommand(Clock clock, PrintStream out) {
        super("audit", "Summarises finished sessions from the audit store the nodes write");
        this.clock = clock;
        this.out = out;
    }

    @Override
    public void configure(Subparser subparser) {
        super.configure(subparser);
        subparser.addArgument("--since").type(new SinceArgument()).setDefault(SinceArgument.DEFAULT)
                .help("how far back, e.g. 30m, 24h, 7d, 2w");
        subparser.addArgument("--group-by").dest("groupBy").setDefault("model")
                .choices("hour", "day", "model", "client", "end_reason").help("grouping");
        subparser.addArgument("--format").setDefault("table").choices("table", "csv").help("output format");
        subparser.addArgument("--charges").metavar("SESSION_ID")
                .help("list this session's charges (model priced, tokens, cost) instead of the summary");
    }

    @Override
    protected void run(Bootstrap<DuckeConfiguration> bootstrap, Namespace ns, DuckeConfiguration config) {
        Duration since = ns.<SinceArgument.Since>get("since").duration();
        AuditDao.GroupBy group = AuditDao.GroupBy.valueOf(ns.getString("groupBy").toUpperCase(Locale.ROOT));
        AuditStore store = AuditStore.of(config.getAudit(), ConfigVariables.of(ns.getString("file")));
        String session = ns.getString("charges");
        List<String[]> table;
        try {
            AuditDao dao = new AuditDao(Jdbi.create(store.readOnlyUrl(), store.user(), store.password()));
            table = session != null ? ChargeTable.of(dao, session.strip())
                    : table(ns.getString("groupBy"), group, dao.summary(
                            new AuditQuery(clock.millis() - since.toMillis(), null, null, null, null, null), group));
        } catch (JdbiException e) {
            throw store.unreadable(e);
        }
        if ("csv".equals(ns.getString("format"))) {
            table.subList(0, table.size() - 1).forEach(row -> out.println(String.join(",", row)));
        } else {
            print(table);
        }
    }

    @Override
    public void onError(Cli cli, Namespace namespace, Throwable e) {
        StartupErrors.print(cli, namespace, e);
    }

    /** Header, one row per group, and a total row last. */
    private static List<String[]> table(String groupName, AuditDao.GroupBy group, List<AuditDao.SummaryRow> rows) {
        List<String[]> table = new ArrayList<>();
        table.add(new String[]{groupName, "sessions", "cost_usd", "input_tokens", "output_tokens", "avg_duration_s"});
        long sessions = 0;
        BigDecimal total = BigDecimal.ZERO;
        for (AuditDao.SummaryRow r : rows) {
            String key = group.byTime() ? Instant.ofEpochMilli(Long.parseLong(r.key())).toString() : r.key();
            table.add(new String[]{key, Long.toString(r.sessions()), usd(r.costUsd()),
                    Long.toString(r.tokens().input()), Long.toString(r.tokens().output()),
                    r.averageDurationSeconds().toPlainString()});
            sessions += r.sessions();
            total = total.add(r.costUsd());
        }
        table.add(new String[]{"TOTAL", Long.toString(sessions), usd(total), "", "", ""});
        return table;
    }

    private static String usd(BigDecimal v) {
        return Money.usd(Money.nanoUsd(v)).toPlainString();
    }

    private void print(List<String[]> table) {
        int[] width = new int[table.get(0).length];
        for (String[] row : table) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : table) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? String.format("%-" + width[i] + "s", row[i]) : String.format("  %" + width[i] + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
