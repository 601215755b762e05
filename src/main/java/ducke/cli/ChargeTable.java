package ducke.cli;

import ducke.core.cost.ChargeRecord;
import ducke.core.cost.Money;
import ducke.db.AuditDao;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One session's charges as the {@code audit} command prints them: oldest first, a total row last. */
final class ChargeTable {

    private ChargeTable() {
    }

    /** @throws StartupException when the store has no such session */
    static List<String[]> of(AuditDao dao, String sessionId) {
        List<String[]> table = new ArrayList<>();
        table.add(new String[]{"at", "charge_key", "model", "input_tokens", "output_tokens", "cost_usd", "estimated",
                "price_version"});
        long total = 0;
        String cursor = null;
        do {
            AuditDao.ChargePage page = dao.charges(sessionId, 1000, cursor);
            for (ChargeRecord c : page.charges()) {
                table.add(new String[]{Instant.ofEpochMilli(c.atMillis()).toString(), c.chargeKey(), c.model(),
                        Long.toString(c.tokens().input()), Long.toString(c.tokens().output()),
                        Money.usd(c.costNanoUsd()).toPlainString(), Boolean.toString(c.estimated()), c.priceVersion()});
                total = Math.addExact(total, c.costNanoUsd());
            }
            cursor = page.nextCursor();
        } while (cursor != null);
        if (table.size() == 1 && !dao.knows(sessionId)) {
            throw new StartupException("The audit store has no session '" + sessionId + "'");
        }
        table.add(new String[]{"TOTAL", (table.size() - 1) + " charge(s)", "", "", "", Money.usd(total).toPlainString(), "",
                ""});
        return table;
    }
}
