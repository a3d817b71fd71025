-- The audit table of dev.sluice:pipeline-audit on MariaDB (10.5 or later) and MySQL (8.0 or later).
--
-- JdbcAuditSink runs this very statement when it creates the table itself, with its own table and database
-- names in place of `audit_logs`. To run the application under a user without DDL rights, apply this file
-- yourself (mariadb < file, or as a Flyway or Liquibase migration), grant SELECT, INSERT and UPDATE on the table,
-- and build the sink with withSchemaCreation(false). Statements end with a semicolon at the end of a line.
--
-- Times are DATETIME(3) in UTC. Names are utf8mb4 with a binary collation, so that lookups match exactly;
-- VARCHAR(512) holds the 512 bytes of UTF-8 that AuditEvent allows, and its index entries fit InnoDB's 3,072
-- bytes. The indexes come with the table: MySQL has no CREATE INDEX IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS `audit_logs` (
    id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id char(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    event_type varchar(512) NOT NULL,
    correlation_id varchar(512) NOT NULL,
    method_name varchar(512) NOT NULL,
    created_date datetime(3) NOT NULL,
    success boolean NOT NULL,
    duration_ms bigint NOT NULL,
    item_count bigint NOT NULL,
    audit_data json NOT NULL,
    UNIQUE KEY `audit_logs_event_id_key` (event_id),
    KEY `audit_logs_correlation_id_idx` (correlation_id),
    KEY `audit_logs_created_date_idx` (created_date)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
