-- Announce changes the shopper-facing caches depend on (see service/changes.py and
-- service/traceability/hotcache.py). Scan counters are not announced: the unit status is re-read
-- at most a second later anyway; a counterfeit flag is, so a warning shows on the next scan.
create trigger batches_changed after insert or update or delete on batches
    for each row execute function notify_change('id');
create trigger events_changed after insert on events
    for each row execute function notify_change('batch_id');
create trigger products_changed after update or delete on products
    for each row execute function notify_change('id');
create trigger organizations_changed after update or delete on organizations
    for each row execute function notify_change('id');
create trigger certifications_changed after insert or update or delete on certifications
    for each row execute function notify_change('organization_id');
create trigger units_flagged after update of flagged_at on units
    for each row when (old.flagged_at is distinct from new.flagged_at)
    execute function notify_change('batch_id');
