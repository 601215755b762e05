-- Pause instead of cut (COST_PROTECTION_ON_CAP=pause): how often a realtime session was paused at
-- its cost limit, and for how long in all. Written by the node that held the session once it has
-- ended; 0 for sessions that never paused (and rows written before this migration).
ALTER TABLE audit_sessions ADD COLUMN pauses INT DEFAULT 0 NOT NULL;
ALTER TABLE audit_sessions ADD COLUMN paused_ms BIGINT DEFAULT 0 NOT NULL;
