-- Counted scans per batch, local day (Asia/Ho_Chi_Minh) and the commune the scanning phone was in, estimated from
-- its rounded position by the nearest commune centre (service/traceability/registry/commune_centres.py); '' when
-- unknown (no position sent, or too far from every Thái Nguyên commune centre). first_scans counts the batch's
-- serialized units whose first counted scan fell on that day and in that commune: the first-scan map.
-- Kept by the scan flusher in the same transaction as scan_daily, so the scans of a (batch, day) here add up to
-- scan_daily's. Counts only: no position, no scan and nothing about a phone is kept. The day is part of the key,
-- so the table can later be range-partitioned by day like scans.
create table scan_commune_daily (
    batch_id uuid not null references batches (id),
    day date not null,
    commune_code text not null check (commune_code = '' or commune_code ~ '^[0-9]{5}$'),
    scans integer not null default 0 check (scans >= 0),
    first_scans integer not null default 0 check (first_scans >= 0),
    primary key (batch_id, day, commune_code)
);
create index scan_commune_daily_day_idx on scan_commune_daily (day, batch_id);

-- What was counted before this table existed goes under unknown: the positions of earlier scans are not
-- re-read (that would mean reading every raw scan), so their commune stays unknown.
insert into scan_commune_daily (batch_id, day, commune_code, scans, first_scans)
select batch_id, day, '', sum(scans), sum(first_scans)
from (
    select batch_id, day, scans, 0 as first_scans from scan_daily
    union all
    select batch_id, (first_scanned_at at time zone 'Asia/Ho_Chi_Minh')::date, 0, count(*)
    from units
    where first_scanned_at is not null
    group by 1, 2
) as counted (batch_id, day, scans, first_scans)
group by batch_id, day;
