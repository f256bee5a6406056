-- Scans partitioned by month of scanned_at (declarative range partitioning), converting the existing table
-- without losing a row. Months begin at local midnight (Asia/Ho_Chi_Minh, no daylight saving), so a local
-- day always lies in exactly one partition. The primary key includes the partition key, as PostgreSQL asks.
-- A default partition catches scans of a month whose partition does not exist yet, so a flush never fails
-- because the upkeep job was late; ensure_scans_partition moves such rows into the month's own partition.

alter table scans rename to scans_unpartitioned;
alter index scans_pkey rename to scans_unpartitioned_pkey;
alter index scans_batch_time_idx rename to scans_unpartitioned_batch_time_idx;
alter index scans_unit_idx rename to scans_unpartitioned_unit_idx;

create table scans (
    id bigint generated always as identity,
    batch_id uuid not null references batches (id),
    unit_id uuid references units (id),
    scanned_at timestamptz not null,
    lat double precision check (lat between -90 and 90),
    lon double precision check (lon between -180 and 180),
    ua_class text not null check (ua_class in ('android', 'ios', 'desktop', 'app', 'bot', 'other')),
    -- false for repeats from the same client inside the dedup window, and for bots
    counted boolean not null,
    check ((lat is null) = (lon is null)),
    primary key (id, scanned_at)
) partition by range (scanned_at);
create index scans_batch_time_idx on scans (batch_id, scanned_at);
create index scans_unit_idx on scans (unit_id, scanned_at) where unit_id is not null;
create table scans_default partition of scans default;

-- The partition of the local month holding `month` (any day of it): scans_YYYY_MM. Rows of that month
-- waiting in the default partition are moved into it in the same transaction. Returns true when created.
create function ensure_scans_partition(month date) returns boolean
language plpgsql as $$
declare
    first_day date := make_date(extract(year from month)::int, extract(month from month)::int, 1);
    next_day date := (first_day + interval '1 month')::date;
    -- bounds at local midnight, whatever the session's time zone
    lower_bound timestamptz := make_timestamptz(
        extract(year from first_day)::int, extract(month from first_day)::int, 1, 0, 0, 0, 'Asia/Ho_Chi_Minh');
    upper_bound timestamptz := make_timestamptz(
        extract(year from next_day)::int, extract(month from next_day)::int, 1, 0, 0, 0, 'Asia/Ho_Chi_Minh');
    name text := format('scans_%s', to_char(first_day, 'YYYY_MM'));
begin
    if to_regclass(name) is not null then
        return false;
    end if;
    execute format('create table %I (like scans including defaults including constraints)', name);
    execute format(
        'insert into %I select * from scans_default where scanned_at >= $1 and scanned_at < $2', name)
        using lower_bound, upper_bound;
    delete from scans_default where scanned_at >= lower_bound and scanned_at < upper_bound;
    execute format('alter table scans attach partition %I for values from (%L) to (%L)',
        name, lower_bound, upper_bound);
    return true;
end
$$;

-- Partitions for every month that holds scans, and this month and the next three.
do $$
declare
    m date;
begin
    for m in
        select distinct date_trunc('month', scanned_at at time zone 'Asia/Ho_Chi_Minh')::date
        from scans_unpartitioned
        union
        select (date_trunc('month', now() at time zone 'Asia/Ho_Chi_Minh') + make_interval(months => k))::date
        from generate_series(0, 3) as k
    loop
        perform ensure_scans_partition(m);
    end loop;
end
$$;

insert into scans (id, batch_id, unit_id, scanned_at, lat, lon, ua_class, counted)
overriding system value
select id, batch_id, unit_id, scanned_at, lat, lon, ua_class, counted from scans_unpartitioned;

-- New scans continue after the highest id carried over.
select setval(pg_get_serial_sequence('scans', 'id'), coalesce((select max(id) from scans_unpartitioned), 0) + 1, false);

drop table scans_unpartitioned;
