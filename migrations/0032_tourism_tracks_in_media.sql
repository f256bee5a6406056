-- Track audio now lives in the shared media store (tourism_tracks.media_id -> media). The media
-- allow-list includes AAC, so tracks accept it too; seeding and the GLB route find stored objects by
-- sha256 (content-addressed reuse), hence the index.

alter table tourism_tracks drop constraint tourism_tracks_mime_check;
alter table tourism_tracks add constraint tourism_tracks_mime_check
    check (mime in ('audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/wav', 'audio/flac'));

create index media_ready_sha256_idx on media (sha256, purpose) where status = 'ready';
