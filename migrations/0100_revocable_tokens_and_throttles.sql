-- Revocable tokens: every token carries its user's token_version; bumping it (deactivation, a new role,
-- a new password) ends every token issued before, on every worker at once.
alter table users add column token_version integer not null default 1 check (token_version >= 1);

-- Each worker caches (token_version, role, is_active) per user (service/auth/sessions.py): announce the
-- changes that matter so the entry is dropped everywhere.
create trigger users_changed after update of token_version, role, is_active or delete on users
    for each row execute function notify_change('id');

-- Attempts per key ("login:phone:+84...", "login:ip:203.0.113.5", "register:ip:...") inside a fixed window,
-- counted before the work they guard, in one statement, so parallel attempts cannot all pass the check.
create table throttle_counters (
    key text primary key,
    window_start timestamptz not null,
    hits integer not null check (hits >= 0)
);
drop table login_failures;

-- The admin list orders by creation and searches by name.
create index users_created_idx on users (created_at desc, id);
