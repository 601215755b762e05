-- Budgets a backend set for one client (PUT /v1/clients/{client_id}/budget), over the configured
-- defaults. Per column: NULL follows the default, -1 is no limit, any other value is the limit
-- (USD per calendar day and month; milliseconds of session time per calendar day). The grid holds
-- the hot copy; a cluster that starts afresh loads these rows with the spend of the day and the
-- month, summed from audit_charges (and the day's session time from audit_sessions).
CREATE TABLE client_budgets (
    client_id      VARCHAR(128)   NOT NULL PRIMARY KEY,
    day_usd        NUMERIC(20, 9),
    month_usd      NUMERIC(20, 9),
    day_ms         BIGINT,
    updated_at_ms  BIGINT         NOT NULL
);
-- (the month's charges are read by time through audit_charges_at of V4)
