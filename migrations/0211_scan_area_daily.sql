-- The province's scans per day, product category and producer's commune: a summary of scan_daily for the
-- province overview (hundreds of rows a day instead of one per batch). It holds complete days only, up to
-- scan_area_daily_state.complete_through; newer days are read from scan_daily itself, so the overview is never
-- stale. Refreshed by the job traceability.refresh_scan_area_rollup (the last few days recomputed each run,
-- for scans replayed late from a spool).
create table scan_area_daily (
    day date not null,
    category text not null,
    commune_code text not null,
    commune_name text not null,
    scans bigint not null check (scans >= 0),
    primary key (day, category, commune_code)
);

create table scan_area_daily_state (
    singleton boolean primary key default true check (singleton),
    complete_through date
);
insert into scan_area_daily_state default values;
