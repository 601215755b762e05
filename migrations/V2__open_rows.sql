-- Live sessions are checkpointed as open rows (is_open = TRUE): the record each would get if the
-- cluster lost it now (end_reason node_lost, ended at the checkpoint, its running cost). The final
-- record replaces the open row; a node starting in a cluster that no longer holds a session closes
-- its open row as it stands. Audit queries count finished rows only.
ALTER TABLE audit_sessions ADD COLUMN is_open BOOLEAN DEFAULT FALSE NOT NULL;

CREATE INDEX audit_sessions_open ON audit_sessions (is_open, session_id);
