-- Every place a media item is referenced from, in one view, so the sweep of unreferenced ready media
-- (service/media/service.py: sweep_unreferenced_media) cannot miss one. A migration that adds a column
-- holding media ids (or storage keys) must replace this view to include it.
-- Shipped 3D models are referenced by the sha256 of a file under assets/3d, not by a row: the sweep is
-- told those digests by its caller.

create view media_references (media_id, referrer) as
    select unnest(photos), 'product_photo' from products
    union all
    select unnest(photos), 'batch_photo' from batches
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

-- the sweep's candidates: ready items by completion time
create index media_ready_completed_idx on media (completed_at) where status = 'ready';
