-- Anonymous counters for the statistics of issue 17: no visitor identifier, no position, no address; a count
-- per key and local day (Asia/Ho_Chi_Minh), kept by in-memory counters flushed in batches like scans.

-- Guide answers that start a track ("play"), per site, point, served language and day.
create table guide_plays_daily (
    site_id uuid not null references tourism_sites (id) on delete cascade,
    point_slug text not null check (char_length(point_slug) between 1 and 80),
    lang text not null check (lang ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    day date not null,
    plays integer not null check (plays >= 0),
    primary key (site_id, point_slug, lang, day)
);
create index guide_plays_daily_day_idx on guide_plays_daily (day);

-- Offline packs served whole (a 304 revalidation is not a download), per site and day.
create table offline_downloads_daily (
    site_id uuid not null references tourism_sites (id) on delete cascade,
    day date not null,
    downloads integer not null check (downloads >= 0),
    primary key (site_id, day)
);
create index offline_downloads_daily_day_idx on offline_downloads_daily (day);

-- The province overview reads a date range of the scan rollup across every batch.
create index scan_daily_day_idx on scan_daily (day, batch_id) include (scans);
