-- One row per charge next to the session's row: what was priced, by which model and price version,
-- and whether the amount is the real usage or an estimate (the response's reservation). A charge is
-- written once, whatever the number of attempts: its key is unique within its session (a response
-- id, a transcription's item id, a usage report's key, a tool fee's own key).
CREATE TABLE audit_charges (
    session_id          VARCHAR(64)    NOT NULL,
    charge_key          VARCHAR(512)   NOT NULL,
    client_id           VARCHAR(128)   NOT NULL,
    model               VARCHAR(128)   NOT NULL,
    text_input_tokens   BIGINT         NOT NULL,
    audio_input_tokens  BIGINT         NOT NULL,
    cached_input_tokens BIGINT         NOT NULL,
    text_output_tokens  BIGINT         NOT NULL,
    audio_output_tokens BIGINT         NOT NULL,
    cost_usd            NUMERIC(20, 9) NOT NULL,
    estimated           BOOLEAN        NOT NULL,
    at_ms               BIGINT         NOT NULL,
    price_version       VARCHAR(32)    NOT NULL,
    recorded_at_ms      BIGINT         NOT NULL,
    PRIMARY KEY (session_id, charge_key)
);

CREATE INDEX audit_charges_model ON audit_charges (model, session_id);

-- The models whose prices priced the session's charges, sorted and comma-separated, kept from its
-- charge rows ('' before any charge row: sessions recorded before charges were kept, or never charged).
ALTER TABLE audit_sessions ADD COLUMN models VARCHAR(1000) DEFAULT '' NOT NULL;
