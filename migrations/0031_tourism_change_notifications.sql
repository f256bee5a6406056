-- Every content change already bumps tourism_sites.version (0030); announce each site row change so
-- every worker drops its cached guide index and offline-pack version for that site.
create trigger tourism_sites_changed
    after insert or update or delete on tourism_sites
    for each row execute function notify_change('slug');
