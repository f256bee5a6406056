-- Farms got photos of their own (0250: organizations.photos): the view of every media reference
-- (0260, read by the sweep of unreferenced media) must list them, or a farm's photo would be swept
-- a week after it was attached. Same columns, one more branch.

create or replace view media_references (media_id, referrer) as
    select unnest(photos), 'product_photo' from products
    union all
    select unnest(photos), 'batch_photo' from batches
    union all
    select unnest(photos), 'farm_photo' from organizations
    union all
    -- event and inspection photos live inside the hashed details
    select (jsonb_array_elements_text(details -> 'photos'))::uuid, 'event_photo' from events
        where jsonb_typeof(details -> 'photos') = 'array'
    union all
    select document_media_id, 'certificate' from certifications where document_media_id is not null
    union all
    select unnest(photos), 'site_photo' from tourism_sites
    union all
    select unnest(photos), 'point_photo' from tourism_points
    union all
    select media_id, 'track_audio' from tourism_tracks where media_id is not null
    union all
    -- tracks written before the media store held them point at an object key
    select m.id, 'track_audio_key' from tourism_tracks t join media m on t.audio_ref = 'store:' || m.storage_key;
