-- Tell every app process what changed, so in-process caches can evict it (see service/changes.py).
-- Usage: create trigger ... after insert or update or delete on T for each row
--        execute function notify_change('key_column');
-- The payload is '<table>:<key>' on channel tt_changes, delivered when the transaction commits.
create function notify_change() returns trigger language plpgsql as $$
declare
    row_data jsonb;
begin
    if tg_op = 'DELETE' then
        row_data := to_jsonb(old);
    else
        row_data := to_jsonb(new);
    end if;
    perform pg_notify('tt_changes', tg_table_name || ':' || coalesce(row_data ->> tg_argv[0], ''));
    return null;
end
$$;
