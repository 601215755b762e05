-- The breaker's own times on every recorded change, so that a cluster started anew (every node
-- stopped) opens a breaker that was open again, with the same reset time: opened_at_ms is when it
-- opened, closes_at_ms when its cooldown ends (both 0 on a closing, and on rows written before
-- this migration: those reopen for a full cooldown from at_ms).
ALTER TABLE audit_breaker_changes ADD COLUMN opened_at_ms BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE audit_breaker_changes ADD COLUMN closes_at_ms BIGINT DEFAULT 0 NOT NULL;

CREATE INDEX audit_breaker_changes_at ON audit_breaker_changes (at_ms);

-- The rebuild reads the last hour's charges by time.
CREATE INDEX audit_charges_at ON audit_charges (at_ms);
