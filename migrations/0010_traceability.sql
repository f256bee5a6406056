-- Traceability core: organizations and their members, certifications, products, plots, input logs,
-- batches (lots), the append-only EPCIS event chain, batch lineage, and idempotency keys.

create table organizations (
    id uuid primary key default gen_random_uuid(),
    kind text not null check (kind in ('household', 'cooperative', 'enterprise')),
    name text not null check (char_length(name) between 1 and 200),
    -- a household farm that belongs to a cooperative (HTX): the cooperative's users manage it
    parent_id uuid references organizations (id),
    description jsonb not null default '{}'::jsonb check (jsonb_typeof(description) = 'object'),
    -- public address: commune/ward from the official 2025 list (two-tier local government)
    province_code integer not null,
    province_name text not null,
    commune_code text not null check (commune_code ~ '^[0-9]{5}$'),
    commune_name text not null,
    former_district text check (char_length(former_district) <= 100),
    address_line text check (char_length(address_line) <= 300),
    lat double precision check (lat between -90 and 90),
    lon double precision check (lon between -180 and 180),
    -- private contact: never on public pages or open data
    contact_phone text check (contact_phone ~ '^\+[1-9][0-9]{7,14}$'),
    contact_email text check (char_length(contact_email) <= 254),
    verification_status text not null default 'unverified'
        check (verification_status in ('unverified', 'verified', 'rejected')),
    verified_by uuid references users (id),
    verified_at timestamptz,
    standards text[] not null default '{}',
    created_by uuid references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check ((lat is null) = (lon is null)),
    check (parent_id is null or parent_id <> id)
);
create index organizations_parent_idx on organizations (parent_id) where parent_id is not null;
create index organizations_commune_idx on organizations (commune_code);
create index organizations_latlon_idx on organizations (lat, lon) where lat is not null;

-- Membership: a user belongs to one organization (users.organization_id comes from the foundation).
alter table users
    add constraint users_organization_fk foreign key (organization_id) references organizations (id);
create index users_organization_idx on users (organization_id) where organization_id is not null;

create table products (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references organizations (id),
    gtin14 text unique check (gtin14 ~ '^[0-9]{14}$'),
    names jsonb not null check (jsonb_typeof(names) = 'object' and names ? 'vi'),
    descriptions jsonb not null default '{}'::jsonb check (jsonb_typeof(descriptions) = 'object'),
    category text not null check (category in ('tea', 'longan', 'pomelo', 'custard_apple', 'cinnamon', 'other')),
    ocop_stars smallint check (ocop_stars between 1 and 5),
    geographic_indication text check (char_length(geographic_indication) <= 200),
    photos uuid[] not null default '{}',
    shelf_life_days integer check (shelf_life_days > 0),
    -- lower-cased, accent-folded names of every language, for search (written by the service)
    search_text text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index products_organization_idx on products (organization_id);

create table certifications (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references organizations (id),
    product_id uuid references products (id),
    kind text not null check (kind in ('vietgap', 'organic', 'ocop', 'geographic_indication', 'other')),
    issuer text not null check (char_length(issuer) between 1 and 300),
    number text not null check (char_length(number) between 1 and 100),
    valid_from date not null,
    valid_to date,
    stars smallint check (stars between 1 and 5),
    decision_number text check (char_length(decision_number) <= 100),
    created_by uuid references users (id),
    created_at timestamptz not null default now(),
    check (valid_to is null or valid_to >= valid_from),
    check ((kind = 'ocop') = (stars is not null))
);
create index certifications_organization_idx on certifications (organization_id);
create index certifications_product_idx on certifications (product_id) where product_id is not null;

create table plots (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references organizations (id),
    name text not null check (char_length(name) between 1 and 200),
    commune_code text not null check (commune_code ~ '^[0-9]{5}$'),
    commune_name text not null,
    -- GeoJSON geometry (RFC 7946, [lon, lat]): a Point or a Polygon; lat/lon is its point or centroid
    geometry jsonb not null,
    lat double precision not null check (lat between -90 and 90),
    lon double precision not null check (lon between -180 and 180),
    area_m2 numeric check (area_m2 > 0),
    crops text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index plots_organization_idx on plots (organization_id);

-- Input log: fertiliser and pesticide applications on a plot, with the pre-harvest interval.
create table plot_inputs (
    id uuid primary key default gen_random_uuid(),
    plot_id uuid not null references plots (id),
    organization_id uuid not null references organizations (id),
    applied_on date not null,
    product_name text not null check (char_length(product_name) between 1 and 200),
    active_ingredient text check (char_length(active_ingredient) <= 200),
    dose text check (char_length(dose) <= 100),
    phi_days integer not null default 0 check (phi_days between 0 and 365),
    notes text check (char_length(notes) <= 2000),
    created_by uuid references users (id),
    created_at timestamptz not null default now()
);
create index plot_inputs_plot_idx on plot_inputs (plot_id, applied_on desc);

create table batches (
    id uuid primary key default gen_random_uuid(),
    product_id uuid not null references products (id),
    organization_id uuid not null references organizations (id),
    lot text not null check (char_length(lot) between 1 and 20 and lot ~ '^[!"%&''()*+,\-./0-9:;<=>?A-Z_a-z]+$'),
    -- the short identifier of /q/{code} (products without a GTIN): random, never sequential
    code text not null unique check (code ~ '^[23456789A-HJ-NP-Z]{8,20}$'),
    quantity numeric not null check (quantity > 0),
    -- what is left after transformations consumed part of it
    quantity_available numeric not null check (quantity_available >= 0),
    unit text not null check (char_length(unit) between 1 and 20),
    harvest_date date,
    harvest_end date,
    plot_id uuid references plots (id),
    photos uuid[] not null default '{}',
    expiry_date date,
    notes text check (char_length(notes) <= 2000),
    status text not null default 'active' check (status in ('active', 'recalled')),
    recall_reason text check (char_length(recall_reason) <= 2000),
    recalled_at timestamptz,
    phi_violation boolean not null default false,
    -- head of the event chain (guarded by `select ... for update` on this row)
    last_seq integer not null default 0,
    last_hash text not null default repeat('0', 64),
    created_by uuid references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (product_id, lot),
    check (harvest_end is null or (harvest_date is not null and harvest_end >= harvest_date)),
    check ((status = 'recalled') = (recalled_at is not null))
);
create index batches_organization_idx on batches (organization_id, created_at desc);
create index batches_plot_idx on batches (plot_id) where plot_id is not null;

-- EPCIS 2.0 events, one hash chain per batch. Append-only: a trigger refuses UPDATE and DELETE.
create table events (
    id uuid primary key default gen_random_uuid(),
    batch_id uuid not null references batches (id),
    seq integer not null check (seq >= 1),
    event_type text not null check (event_type in ('ObjectEvent', 'TransformationEvent')),
    action text check (action in ('ADD', 'OBSERVE', 'DELETE')),
    biz_step text not null,
    disposition text,
    event_time timestamptz not null,
    event_time_zone_offset text not null default '+07:00' check (event_time_zone_offset ~ '^[+-][0-9]{2}:[0-9]{2}$'),
    record_time timestamptz not null default now(),
    read_point text,
    biz_location text,
    quantity numeric check (quantity > 0),
    unit text,
    -- TransformationEvent: [{"batch_id": ..., "quantity": "...", "unit": "..."}]
    inputs jsonb not null default '[]'::jsonb,
    outputs jsonb not null default '[]'::jsonb,
    -- inspection result, notes, photos, recall reason, destination...
    details jsonb not null default '{}'::jsonb,
    recorded_by uuid references users (id),
    prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
    hash text not null check (hash ~ '^[0-9a-f]{64}$'),
    unique (batch_id, seq)
);
create index events_batch_time_idx on events (batch_id, event_time);

create function events_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'events are append-only: % refused', tg_op using errcode = 'restrict_violation';
end
$$;
create trigger events_append_only
    before update or delete on events
    for each row execute function events_refuse_change();
create trigger events_no_truncate
    before truncate on events
    for each statement execute function events_refuse_change();

-- Lineage: which batches went into which (transformations), with quantities.
create table batch_links (
    input_batch_id uuid not null references batches (id),
    output_batch_id uuid not null references batches (id),
    event_id uuid not null references events (id),
    quantity numeric not null check (quantity > 0),
    unit text not null,
    primary key (input_batch_id, output_batch_id, event_id),
    check (input_batch_id <> output_batch_id)
);
create index batch_links_output_idx on batch_links (output_batch_id);

-- Idempotency keys per user: the request's body hash and the answer it got.
create table idempotency_keys (
    user_id uuid not null references users (id),
    key text not null check (char_length(key) between 1 and 200),
    operation text not null,
    request_hash text not null,
    status_code integer not null,
    response jsonb not null,
    created_at timestamptz not null default now(),
    primary key (user_id, key)
);
