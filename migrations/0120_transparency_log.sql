-- A public, append-only Merkle log (RFC 9162 ideas) of every batch chain head, and its signed checkpoints.
-- Each time a batch's chain grows, the new head (batch, code, seq, hash, time) becomes leaf number `idx`,
-- written in the transaction that moves the head. `transparency_log.size` is the one counter appenders
-- take in turn (its row lock), so leaf indexes are dense: 0, 1, 2 ... with no gap even after rollbacks.

create table transparency_log (
    id boolean primary key default true check (id),
    size bigint not null check (size >= 0)
);

create table transparency_leaves (
    idx bigint primary key check (idx >= 0),
    batch_id uuid not null references batches (id),
    seq integer not null check (seq >= 1),
    data bytea not null,            -- the exact bytes hashed: SHA-256(0x00 || data) is the leaf hash
    leaf_hash bytea not null check (length(leaf_hash) = 32),
    logged_at timestamptz not null,
    unique (batch_id, seq)
);

-- Every checkpoint issued, one per tree size and signing key (a new key re-signs the current size).
create table transparency_checkpoints (
    tree_size bigint not null check (tree_size >= 0),
    key_id text not null,
    root_hash bytea not null check (length(root_hash) = 32),
    issued_at timestamptz not null,
    signature bytea not null,
    primary key (tree_size, key_id)
);

create function transparency_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'restrict_violation';
end
$$;
create trigger transparency_leaves_append_only
    before update or delete on transparency_leaves
    for each row execute function transparency_refuse_change();
create trigger transparency_leaves_no_truncate
    before truncate on transparency_leaves
    for each statement execute function transparency_refuse_change();
create trigger transparency_checkpoints_append_only
    before update or delete on transparency_checkpoints
    for each row execute function transparency_refuse_change();
create trigger transparency_checkpoints_no_truncate
    before truncate on transparency_checkpoints
    for each statement execute function transparency_refuse_change();

-- The leaf's bytes: one compact JSON object, keys in this order, time in UTC with microseconds. Defined
-- here once, so the appends below and the heads logged by this migration cannot drift apart.
create function transparency_leaf_data(batch_id uuid, code text, seq integer, hash text, at timestamptz)
returns bytea language sql immutable strict as $$
    select convert_to(format(
        '{"batch_id":"%s","code":"%s","seq":%s,"hash":"%s","logged_at":"%s"}',
        batch_id, code, seq, hash, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    ), 'UTF8')
$$;

-- Append one chain head as the next leaf; returns its index. Called in the statement that moves the head.
-- The row lock on transparency_log is held until the caller commits: appends queue, indexes stay dense,
-- and leaves become visible in index order.
create function transparency_append(p_batch uuid, p_code text, p_seq integer, p_hash text)
returns bigint language plpgsql as $$
declare
    next_idx bigint;
    at timestamptz;
    leaf bytea;
begin
    update transparency_log set size = size + 1 returning size - 1 into next_idx;
    at := clock_timestamp();
    leaf := transparency_leaf_data(p_batch, p_code, p_seq, p_hash, at);
    insert into transparency_leaves (idx, batch_id, seq, data, leaf_hash, logged_at)
    values (next_idx, p_batch, p_seq, leaf, sha256('\x00'::bytea || leaf), at);
    return next_idx;
end
$$;

-- The heads that exist already become the first leaves, oldest batch first.
insert into transparency_log (id, size) values (true, 0);
select transparency_append(b.id, b.code, b.last_seq, b.last_hash)
from (select id, code, last_seq, last_hash from batches where last_seq > 0 order by created_at, id) as b;
