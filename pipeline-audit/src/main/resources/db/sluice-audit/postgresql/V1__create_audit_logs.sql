-- The audit table of dev.sluice:pipeline-audit on PostgreSQL (12 or later).
--
-- JdbcAuditSink runs these very statements when it creates the table itself, with its own table and schema
-- names in place of "audit_logs". To run the application under a role without DDL rights, apply this file
-- yourself (psql -f, or as a Flyway or Liquibase migration), grant SELECT, INSERT and UPDATE on the table, and
-- build the sink with withSchemaCreation(false). Statements end with a semicolon at the end of a line.
CREATE TABLE IF NOT EXISTS "audit_logs" (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    correlation_id text NOT NULL,
    method_name text NOT NULL,
    created_date timestamptz NOT NULL,
    success boolean NOT NULL,
    duration_ms bigint NOT NULL,
    item_count bigint NOT NULL,
    audit_data jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS "audit_logs_correlation_id_idx" ON "audit_logs" (correlation_id);
CREATE INDEX IF NOT EXISTS "audit_logs_created_date_idx" ON "audit_logs" (created_date);
