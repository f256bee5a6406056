-- Scan side: serialized units of a batch, recorded scans, a per-day rollup, and counterfeit alerts.

create table units (
    id uuid primary key default gen_random_uuid(),
    batch_id uuid not null references batches (id),
    -- random, unguessable (>= 65 bits), GS1 AI 21 compatible, no ambiguous characters
    serial text not null unique check (serial ~ '^[23456789A-HJ-NP-Z]{13,20}$'),
    -- creation order within the batch (1, 2, ...): label sheets print ranges of it
    seq integer not null check (seq >= 1),
    created_at timestamptz not null default now(),
    first_scanned_at timestamptz,
    last_scanned_at timestamptz,
    scan_count integer not null default 0 check (scan_count >= 0),
    -- the last coarse position a counted scan came from, for the impossible-travel check
    last_lat double precision,
    last_lon double precision,
    last_located_at timestamptz,
    flagged_at timestamptz,
    flag_reason text check (flag_reason in ('too_many_scans', 'impossible_travel')),
    unique (batch_id, seq),
    check ((flagged_at is null) = (flag_reason is null))
);

-- One row per resolve. Positions are rounded (about 1 km) and client addresses are never stored.
create table scans (
    id bigint generated always as identity primary key,
    batch_id uuid not null references batches (id),
    unit_id uuid references units (id),
    scanned_at timestamptz not null,
    lat double precision check (lat between -90 and 90),
    lon double precision check (lon between -180 and 180),
    ua_class text not null check (ua_class in ('android', 'ios', 'desktop', 'app', 'bot', 'other')),
    -- false for repeats from the same client inside the dedup window, and for bots
    counted boolean not null,
    check ((lat is null) = (lon is null))
);
create index scans_batch_time_idx on scans (batch_id, scanned_at);
create index scans_unit_idx on scans (unit_id, scanned_at) where unit_id is not null;

-- Counted scans per batch and local day (Asia/Ho_Chi_Minh), kept by the scan flusher.
create table scan_daily (
    batch_id uuid not null references batches (id),
    day date not null,
    scans integer not null check (scans >= 0),
    primary key (batch_id, day)
);

create table scan_alerts (
    id uuid primary key default gen_random_uuid(),
    batch_id uuid not null references batches (id),
    unit_id uuid not null references units (id),
    reason text not null check (reason in ('too_many_scans', 'impossible_travel')),
    details jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    unique (unit_id, reason)
);
create index scan_alerts_created_idx on scan_alerts (created_at desc);
