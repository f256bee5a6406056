-- Partners (exporters, supermarket chains, the national portal) and their API clients; EPCIS 2.0 capture
-- jobs, captured events (idempotent by eventID, error declarations apart) and saved named queries.

create table partners (
    id uuid primary key,
    name text not null check (length(name) between 1 and 200),
    created_by uuid references users (id),
    created_at timestamptz not null default now()
);

-- A client secret is 256 random bits: its SHA-256 (hex) is stored, never the secret.
create table partner_clients (
    id uuid primary key,
    partner_id uuid not null references partners (id),
    label text not null default '' check (length(label) <= 200),
    secret_sha256 text not null check (secret_sha256 ~ '^[0-9a-f]{64}$'),
    scopes text[] not null check (scopes <@ array['capture', 'query']::text[] and cardinality(scopes) > 0),
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
create index partner_clients_partner on partner_clients (partner_id);

create table epcis_capture_jobs (
    id uuid primary key,
    partner_id uuid not null references partners (id),
    client_id uuid not null references partner_clients (id),
    status text not null check (status in ('running', 'succeeded', 'failed')),
    error_behaviour text not null check (error_behaviour in ('rollback', 'proceed')),
    event_count integer not null,
    captured integer not null default 0,
    duplicates integer not null default 0,
    document jsonb,  -- kept while running (a restart resumes the job), dropped once finished
    errors jsonb not null default '[]',
    created_at timestamptz not null default now(),
    finished_at timestamptz
);
create index epcis_capture_jobs_running on epcis_capture_jobs (created_at) where status = 'running';

create table epcis_events (
    id uuid primary key,
    partner_id uuid not null references partners (id),
    capture_id uuid not null references epcis_capture_jobs (id),
    event_id text not null,
    error_declared boolean not null default false,
    hash_id text not null,
    pre_hash text not null,
    event_type text not null,
    event_time timestamptz not null,
    record_time timestamptz not null default now(),
    biz_step text,
    disposition text,
    read_point text,
    biz_location text,
    epcs text[] not null default '{}',
    batch_ids uuid[] not null default '{}',
    chain_event_ids uuid[] not null default '{}',
    body jsonb not null,
    -- an error declaration keeps its original event's eventID: it is a second record, not a duplicate
    unique (partner_id, event_id, error_declared)
);
create index epcis_events_time on epcis_events (partner_id, event_time, id);
create index epcis_events_epcs on epcis_events using gin (epcs);
create index epcis_events_batches on epcis_events using gin (batch_ids);
create index epcis_events_chain on epcis_events using gin (chain_event_ids);

create table epcis_named_queries (
    id uuid primary key,
    partner_id uuid not null references partners (id),
    name text not null check (name ~ '^[A-Za-z0-9_.-]{1,80}$'),
    query jsonb not null,
    created_at timestamptz not null default now(),
    unique (partner_id, name)
);
