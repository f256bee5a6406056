-- Heritage sites, their points of interest, narrated tracks and tours.
-- Texts are jsonb maps keyed by language code: {"vi": {...}, "en": {...}}; a site's per-language
-- texts hold its name, summary, history, address, opening hours, tickets and ranking wording.
-- search_name / search_body hold diacritic-folded text written by the service (no unaccent here).

create table tourism_sites (
    id uuid primary key default gen_random_uuid(),
    slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 80),
    status text not null default 'draft' check (status in ('draft', 'published')),
    version integer not null default 1 check (version >= 1),
    texts jsonb not null check (jsonb_typeof(texts) = 'object'),
    lat double precision not null check (lat between -90 and 90),
    lon double precision not null check (lon between -180 and 180),
    commune_code text check (commune_code ~ '^[0-9]{5}$'),
    ranking text not null default 'unranked'
        check (ranking in ('special_national', 'national', 'provincial', 'unranked')),
    photos uuid[] not null default '{}',
    sources jsonb not null default '[]' check (jsonb_typeof(sources) = 'array'),
    coordinates_status text not null default 'needs_checking'
        check (coordinates_status in ('verified', 'needs_checking')),
    coordinates_note text not null default '',
    needs_check jsonb not null default '[]' check (jsonb_typeof(needs_check) = 'array'),
    search_name text not null default '',
    search_body text not null default '',
    search_vector tsvector generated always as (
        setweight(to_tsvector('simple', search_name), 'A') || setweight(to_tsvector('simple', search_body), 'B')
    ) stored,
    created_by uuid references users (id),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    published_at timestamptz
);
create index tourism_sites_published_idx on tourism_sites (status, slug);
create index tourism_sites_search_idx on tourism_sites using gin (search_vector);

create table tourism_points (
    id uuid primary key default gen_random_uuid(),
    site_id uuid not null references tourism_sites (id) on delete cascade,
    slug text not null check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 80),
    ord integer not null default 0,
    lat double precision not null check (lat between -90 and 90),
    lon double precision not null check (lon between -180 and 180),
    radius_m double precision not null check (radius_m > 0 and radius_m <= 5000),
    polygon jsonb check (polygon is null or jsonb_typeof(polygon) = 'array'),
    dwell_seconds integer not null default 0 check (dwell_seconds between 0 and 3600),
    cooldown_seconds integer not null default 0 check (cooldown_seconds between 0 and 86400),
    play_once boolean not null default false,
    photos uuid[] not null default '{}',
    model_slug text check (model_slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    texts jsonb not null check (jsonb_typeof(texts) = 'object'),
    search_name text not null default '',
    search_body text not null default '',
    search_vector tsvector generated always as (
        setweight(to_tsvector('simple', search_name), 'A') || setweight(to_tsvector('simple', search_body), 'B')
    ) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (site_id, slug)
);
-- The guide's hot path: a bounding box inside one site, then exact haversine in Python.
create index tourism_points_bbox_idx on tourism_points (site_id, lat, lon);
create index tourism_points_order_idx on tourism_points (site_id, ord, slug);
create index tourism_points_search_idx on tourism_points using gin (search_vector);
-- sites_near() for the shopper page: nearest published places across sites.
create index tourism_points_latlon_idx on tourism_points (lat, lon);
create index tourism_sites_latlon_idx on tourism_sites (lat, lon);

create table tourism_tracks (
    id uuid primary key default gen_random_uuid(),
    point_id uuid not null references tourism_points (id) on delete cascade,
    lang text not null check (lang ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    media_id uuid references media (id),
    -- Where the bytes are when no media row holds them: "seed:<path under service/tourism/seed>"
    -- for audio shipped with the repository, "store:<key>" for objects the service wrote itself.
    audio_ref text,
    duration_s double precision not null check (duration_s > 0),
    bytes bigint not null check (bytes > 0),
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    mime text not null check (mime in ('audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/wav', 'audio/flac')),
    narrator text not null default '',
    origin text not null check (origin in ('human', 'machine')),
    cues jsonb not null default '[]' check (jsonb_typeof(cues) = 'array'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (point_id, lang),
    check (media_id is not null or audio_ref is not null)
);

create table tourism_tours (
    id uuid primary key default gen_random_uuid(),
    site_id uuid not null references tourism_sites (id) on delete cascade,
    slug text not null check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 80),
    mode text not null check (mode in ('walk', 'boat', 'drive')),
    playback text not null default 'sequential' check (playback in ('sequential', 'free')),
    texts jsonb not null default '{}' check (jsonb_typeof(texts) = 'object'),
    route jsonb not null check (jsonb_typeof(route) = 'array' and jsonb_array_length(route) >= 2),
    distance_m double precision not null check (distance_m >= 0),
    duration_s integer not null check (duration_s >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (site_id, slug)
);

create table tourism_tour_stops (
    tour_id uuid not null references tourism_tours (id) on delete cascade,
    position integer not null check (position >= 0),
    point_id uuid not null references tourism_points (id) on delete cascade,
    primary key (tour_id, position)
);
create index tourism_tour_stops_point_idx on tourism_tour_stops (point_id);

-- Any content change bumps the site's version: the offline pack's ETag is derived from it.
create function tourism_site_touch() returns trigger language plpgsql as $$
begin
    if new.version = old.version and (to_jsonb(new) - 'updated_at' - 'search_vector')
        is distinct from (to_jsonb(old) - 'updated_at' - 'search_vector') then
        new.version := old.version + 1;
        new.updated_at := now();
    end if;
    return new;
end $$;
create trigger tourism_sites_version before update on tourism_sites
    for each row execute function tourism_site_touch();

create function tourism_bump_site(target uuid) returns void language sql as $$
    update tourism_sites set version = version + 1, updated_at = now() where id = target;
$$;

create function tourism_child_changed() returns trigger language plpgsql as $$
declare
    row_site uuid;
    rec record;
begin
    if tg_op = 'DELETE' then rec := old; else rec := new; end if;
    if tg_table_name = 'tourism_points' or tg_table_name = 'tourism_tours' then
        row_site := rec.site_id;
    elsif tg_table_name = 'tourism_tracks' then
        select site_id into row_site from tourism_points where id = rec.point_id;
    elsif tg_table_name = 'tourism_tour_stops' then
        select site_id into row_site from tourism_tours where id = rec.tour_id;
    end if;
    if row_site is not null then
        perform tourism_bump_site(row_site);
    end if;
    return null;
end $$;

create trigger tourism_points_bump after insert or update or delete on tourism_points
    for each row execute function tourism_child_changed();
create trigger tourism_tracks_bump after insert or update or delete on tourism_tracks
    for each row execute function tourism_child_changed();
create trigger tourism_tours_bump after insert or update or delete on tourism_tours
    for each row execute function tourism_child_changed();
create trigger tourism_tour_stops_bump after insert or update or delete on tourism_tour_stops
    for each row execute function tourism_child_changed();
