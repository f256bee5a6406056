-- One dedup across workers and machines: the last counted scan per (unit or batch, client digest). The flush
-- counts a scan only when its upsert wins (no key, or the key is older than the dedup window), so a repeat
-- from the same client inside the window counts once whichever worker answered. The digest is an HMAC with
-- a daily salt derived from the server secret: equal across workers, unlinkable from one day to the next.
-- Unlogged: a crash or a failover forgets the keys of the last few minutes, which at worst counts a repeat
-- twice; the table is small (clients of the last window) and is purged by a scheduled job.
create unlogged table scan_dedup (
    target uuid not null,
    client bytea not null check (length(client) = 16),
    counted_at timestamptz not null,
    primary key (target, client)
);
create index scan_dedup_counted_at_idx on scan_dedup (counted_at);
