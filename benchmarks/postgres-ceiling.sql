-- The most audit rows per second this PostgreSQL server can store, with no client in the way, checked by hand: the
-- rows of benchmark 7 (the audit table's columns and indexes, as pipeline-audit's Dialect.POSTGRESQL creates them,
-- and an audit_data document of the benchmark's shape, about 490 bytes) are built first in a temporary table, then
-- moved into the audit table by one INSERT ... SELECT with the writer's ON CONFLICT (event_id) DO UPDATE, five
-- times, each in a transaction of its own. What it prints is the server's own cost per row (heap, four indexes,
-- jsonb parsing, WAL), timed without the commit.
--
-- The measured ceiling, the one the audit writer's target divides by, is the benchmark's own method
-- AuditWriterBenchmark.serverCeiling: the same statement over the very documents the writer stores (each event's
-- toJson(), staged before measuring), commit included, in the same run as the writer. This script is for a reader
-- who wants to check a server without building the benchmarks; its figure should lie near that method's.
--
--   psql -h 127.0.0.1 -U postgres -d test -f benchmarks/postgres-ceiling.sql
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_ceiling_audit;
CREATE TABLE bench_ceiling_audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    correlation_id text NOT NULL,
    method_name text NOT NULL,
    created_date timestamptz NOT NULL,
    success boolean NOT NULL,
    duration_ms bigint NOT NULL,
    item_count bigint NOT NULL,
    audit_data jsonb NOT NULL);
CREATE INDEX bench_ceiling_audit_correlation_id_idx ON bench_ceiling_audit (correlation_id);
CREATE INDEX bench_ceiling_audit_created_date_idx ON bench_ceiling_audit (created_date);

CREATE TEMPORARY TABLE bench_ceiling_rows AS
SELECT gen_random_uuid() AS event_id,
       'bench-' || lpad(to_hex(i), 12, '0') AS correlation_id,
       timestamptz '2025-01-01 00:00:00+00' + i * interval '1 ms' AS created_date,
       1000 + i AS item_count,
       i
FROM generate_series(1, 20000) AS i;

SET client_min_messages = notice;
DO $$
DECLARE
    started timestamptz;
    seconds double precision;
BEGIN
    FOR run IN 1..5 LOOP
        TRUNCATE bench_ceiling_audit;
        started := clock_timestamp();
        INSERT INTO bench_ceiling_audit (event_id, event_type, correlation_id, method_name, created_date, success,
                                         duration_ms, item_count, audit_data)
        SELECT r.event_id, 'gRPC:Streaming', r.correlation_id, 'sluice.items.v1.ItemService/StreamItems',
               r.created_date, true, 250, r.item_count,
               CAST('{"endedAt": "2025-01-01T00:00:00.250Z", "eventId": "' || r.event_id
                    || '", "outcome": "COMPLETED", "resumes": 0, "retries": 0, "success": true, '
                    || '"eventType": "gRPC:Streaming", "itemCount": ' || r.item_count
                    || ', "startedAt": "2025-01-01T00:00:00Z", "durationMs": 250, '
                    || '"methodName": "sluice.items.v1.ItemService/StreamItems", "errorMessage": null, '
                    || '"correlationId": "' || r.correlation_id || '", '
                    || '"additionalData": {"shard": ' || (r.i % 16) || ', "client": "benchmark"}, '
                    || '"itemsPerSecond": 4000.0}' AS jsonb)
        FROM bench_ceiling_rows AS r
        ON CONFLICT (event_id) DO UPDATE SET event_type = excluded.event_type,
            correlation_id = excluded.correlation_id, method_name = excluded.method_name,
            created_date = excluded.created_date, success = excluded.success, duration_ms = excluded.duration_ms,
            item_count = excluded.item_count, audit_data = excluded.audit_data;
        seconds := extract(epoch FROM clock_timestamp() - started);
        RAISE NOTICE 'run %: 20000 rows in % ms: % rows per second', run, round((seconds * 1000)::numeric, 1),
            round(20000 / seconds);
        COMMIT; -- each run its own transaction, as each of the writer's batches is
    END LOOP;
END
$$;

SET client_min_messages = warning;
DROP TABLE bench_ceiling_audit;
