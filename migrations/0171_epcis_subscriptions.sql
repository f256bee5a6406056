-- EPCIS subscriptions: a partner's named query pushed to a webhook (recalls of its batches always), each
-- delivery kept with its attempts; after the last try a delivery is dead-lettered (status 'dead').

create table epcis_subscriptions (
    id uuid primary key,
    partner_id uuid not null references partners (id),
    query_id uuid not null references epcis_named_queries (id) on delete cascade,
    destination text not null check (length(destination) <= 2000),
    -- the HMAC key shared with the receiver: shown once, kept readable because every delivery is signed with it
    signing_secret text not null,
    since timestamptz not null default now(),
    scanned_at timestamptz,
    created_at timestamptz not null default now(),
    cancelled_at timestamptz
);
create index epcis_subscriptions_partner on epcis_subscriptions (partner_id);

-- which events a subscription has already matched: overlapping scans never deliver one twice
create table epcis_subscription_matches (
    subscription_id uuid not null references epcis_subscriptions (id) on delete cascade,
    event_ref uuid not null,
    primary key (subscription_id, event_ref)
);

create table epcis_deliveries (
    id uuid primary key,
    subscription_id uuid not null references epcis_subscriptions (id) on delete cascade,
    kind text not null check (kind in ('events', 'recall')),
    payload jsonb not null,
    status text not null check (status in ('pending', 'delivered', 'dead')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    last_status integer,
    created_at timestamptz not null default now(),
    delivered_at timestamptz
);
create index epcis_deliveries_due on epcis_deliveries (next_attempt_at) where status = 'pending';
create index epcis_deliveries_subscription on epcis_deliveries (subscription_id, created_at);
