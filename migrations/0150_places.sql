-- Named places: the farm, packhouse, warehouse, shop or market where an event happened, in words people
-- recognise ("Xưởng chè HTX Tân Cương"). Owned by an organization; public (names, kind, commune and a
-- coarse position only: nothing here is a person's home). Events keep their EPCIS readPoint/bizLocation
-- URIs; an event that names a place carries its id in details.place_id (inside the hash chain).
create table places (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references organizations (id),
    -- {"vi": "...", "en": "..."}: Vietnamese required
    names jsonb not null check (jsonb_typeof(names) = 'object' and names ? 'vi'),
    kind text not null check (kind in ('farm', 'packhouse', 'warehouse', 'shop', 'market')),
    commune_code text not null check (commune_code ~ '^[0-9]{5}$'),
    commune_name text not null,
    -- a GS1 Global Location Number (13 digits, check digit verified by the service)
    gln text unique check (gln ~ '^[0-9]{13}$'),
    -- coarse: rounded to 3 decimals (about 100 m) by the service
    lat double precision check (lat between -90 and 90),
    lon double precision check (lon between -180 and 180),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check ((lat is null) = (lon is null))
);
create index places_organization_idx on places (organization_id);

-- A renamed or removed place changes every shopper page whose journey names it: announce it, and the
-- per-worker page caches drop their entries (service/traceability/scan/caches.py).
create trigger places_changed after update or delete on places
    for each row execute function notify_change('organization_id');
