-- A record of every scheduled job run (python -m service worker, or inside serve on one machine):
-- who ran it, when, how it ended and how many rows it touched. One leader at a time runs jobs
-- (a PostgreSQL advisory lock), so runs of one job never overlap.
create table job_runs (
    id bigint generated always as identity primary key,
    job text not null,
    worker text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    outcome text not null default 'running' check (outcome in ('running', 'succeeded', 'failed')),
    rows_affected bigint,
    error text
);

create index job_runs_job_started_idx on job_runs (job, started_at desc);
