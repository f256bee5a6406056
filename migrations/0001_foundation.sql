-- Foundation: users and their sign-in throttle, and uploaded media.

create table users (
    id uuid primary key default gen_random_uuid(),
    phone text not null unique check (phone ~ '^\+[1-9][0-9]{7,14}$'),
    password_hash text not null,
    full_name text not null check (char_length(full_name) between 1 and 200),
    role text not null check (role in ('farmer', 'cooperative', 'inspector', 'editor', 'admin')),
    organization_id uuid,
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Failed sign-ins per key ("phone:+84...", "ip:203.0.113.5") inside a sliding window.
create table login_failures (
    key text primary key,
    window_start timestamptz not null,
    failures integer not null check (failures >= 0)
);

create table media (
    id uuid primary key default gen_random_uuid(),
    owner_id uuid not null references users (id),
    purpose text not null,
    declared_type text not null,
    content_type text,
    bytes bigint not null check (bytes > 0),
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key text not null unique,
    status text not null default 'pending' check (status in ('pending', 'ready')),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    completed_at timestamptz
);
create index media_owner_idx on media (owner_id, created_at desc);
