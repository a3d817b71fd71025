-- The audit table of dev.sluice:pipeline-audit on SQLite (3.38 or later, for the JSON functions).
--
-- JdbcAuditSink runs these very statements when it creates the table itself, with its own table name in place
-- of "audit_logs". Times are UTC epoch milliseconds (ISO text would sort wrongly). Apply this file yourself and
-- build the sink with withSchemaCreation(false) to keep DDL out of the application. Statements end with a
-- semicolon at the end of a line.
CREATE TABLE IF NOT EXISTS "audit_logs" (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    method_name TEXT NOT NULL,
    created_date INTEGER NOT NULL,
    success INTEGER NOT NULL CHECK (success IN (0, 1)),
    duration_ms INTEGER NOT NULL,
    item_count INTEGER NOT NULL,
    audit_data TEXT NOT NULL CHECK (json_valid(audit_data))
);
CREATE INDEX IF NOT EXISTS "audit_logs_correlation_id_idx" ON "audit_logs" (correlation_id);
CREATE INDEX IF NOT EXISTS "audit_logs_created_date_idx" ON "audit_logs" (created_date);
