-- How far each scan spool file (var/scan-spool/<pid>-<uuid>.jsonl) has been replayed, advanced in the same
-- transaction as the scans it wrote: a worker dying mid-replay, or the next worker adopting its file, never
-- writes a scan twice (service/traceability/scan/spool.py).
create table scan_spool_replays (
    file_name text primary key,
    replayed_bytes bigint not null check (replayed_bytes >= 0),
    updated_at timestamptz not null default now()
);
