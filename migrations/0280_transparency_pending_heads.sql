-- Chain heads reach the transparency log in groups instead of one commit at a time.
--
-- Before: the statement that moved a head also called transparency_append(), whose row lock on the one
-- `transparency_log` row was held until that transaction committed. Every write of every batch therefore
-- waited for the previous writer's commit (its WAL flush) to finish: registrations ran one commit at a
-- time, ~300/s on the bench machine, whatever the number of connections.
--
-- Now: the statement that moves a head writes the head to `transparency_pending` (no shared row: writers
-- commit side by side, and PostgreSQL flushes their commits together). Right after that commit the same
-- request calls transparency_sequence(), which gives every waiting head the next leaf index, in the order
-- the heads were queued, in one short transaction: one WAL flush for all of them. The guarantees hold:
--  * no head without its leaf: the pending row commits with the head (same statement), and every request
--    that moved a head sequences before it answers; a worker that died in between leaves rows that the
--    next sequencing (any write, any checkpoint, the `transparency-sequence` job) logs;
--  * indexes stay dense and leaves become visible in index order (transparency_append is unchanged);
--  * one batch's heads are logged in chain order: its next head is queued only after the previous one's
--    transaction committed (the batch row lock), so it has a larger queue id.

create table transparency_pending (
    id bigint generated always as identity primary key,
    batch_id uuid not null references batches (id),
    code text not null,
    seq integer not null check (seq >= 1),
    hash text not null,
    unique (batch_id, seq)
);

-- Log every queued head (at most p_limit), oldest first; returns how many. One sequencer at a time: the
-- advisory lock is taken before the queue is read, so a caller that returns knows that every head queued
-- before it was called is in the log (logged by it or by the sequencer it waited for).
-- p_own: the caller only needs the heads its own session queued (a writer, right after its commit). When
-- the sequencer it waited for logged them already, it returns at once instead of logging the heads that
-- were queued meanwhile (their writers do): a queue of writers then pays one WAL flush per group, not one
-- each.
create function transparency_sequence(p_own boolean default false, p_limit integer default 100000)
returns integer language plpgsql as $$
declare
    head record;
    logged bigint[] := '{}';
    own bigint;
begin
    if p_own then
        begin
            own := currval(pg_get_serial_sequence('transparency_pending', 'id'));
        exception when object_not_in_prerequisite_state then
            own := null;  -- this session never queued a head: nothing of its own to wait for
        end;
        if own is null or not exists (select 1 from transparency_pending where id <= own) then
            return 0;
        end if;
    elsif not exists (select 1 from transparency_pending) then
        return 0;
    end if;
    perform pg_advisory_xact_lock(hashtextextended('transparency-sequence', 0));
    if p_own and not exists (select 1 from transparency_pending where id <= own) then
        return 0;  -- the sequencer this caller waited for logged its heads
    end if;
    for head in
        select id, batch_id, code, seq, hash from transparency_pending order by id limit p_limit
    loop
        perform transparency_append(head.batch_id, head.code, head.seq, head.hash);
        logged := logged || head.id;
    end loop;
    -- exactly the rows logged: a head queued by a transaction that committed meanwhile may have a lower id
    delete from transparency_pending where id = any(logged);
    return cardinality(logged);
end
$$;

-- The other queue every registration waited in: a transaction that calls pg_notify takes PostgreSQL's one
-- cluster-wide NOTIFY lock at commit and holds it until its commit is flushed, so notifying commits run one
-- at a time. A registration notified twice (its batch's insert, its first event's insert), for nothing:
--  * an inserted batch is in no worker's cache (caches track a batch only once they have read it; a lot
--    that did not exist yet is never kept, see scan/resolve.py), so its insert has nothing to evict;
--  * every event moves its batch's head (`update batches set last_seq ...`, in the same transaction), and
--    that update notifies `batches:<id>`, which evicts exactly what `events:<id>` did (scan/caches.py).
-- Updates and deletes of batches still notify; so do units, products, organizations, certifications.
drop trigger events_changed on events;
drop trigger batches_changed on batches;
create trigger batches_changed after update or delete on batches
    for each row execute function notify_change('id');
