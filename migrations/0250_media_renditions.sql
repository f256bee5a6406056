-- Photos get smaller copies once, when the upload completes: the pages ask for one of them with srcset
-- instead of the phone downloading a 4000 px original. Each copy lives in the media store beside the
-- original ("<purpose>/<id>.w640.webp"). The original's own size lets a page set width/height (no layout shift).
alter table media
    add column width integer check (width > 0),
    add column height integer check (height > 0);

create table media_renditions (
    media_id uuid not null references media (id) on delete cascade,
    width integer not null check (width > 0),
    height integer not null check (height > 0),
    content_type text not null check (content_type in ('image/webp', 'image/jpeg', 'image/png')),
    bytes integer not null check (bytes > 0),
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key text not null unique,
    primary key (media_id, width)
);

-- A farm's own photos (the producer page and the shopper page show the first).
alter table organizations add column photos uuid[] not null default '{}';
