-- Scans of a known GTIN with a lot or serial the producer never registered: a signal for the producer and
-- inspectors (a typo on a label, a lot printed before it was registered, or a copied pack), never a verdict.
-- Counted per product, local day and qualifier; no client address or other personal data is kept.
create table unknown_identifier_scans (
    product_id uuid not null references products (id) on delete cascade,
    day date not null,
    lot text not null default '',     -- '' when the request had no lot
    serial text not null default '',  -- '' when the request had no serial
    scans integer not null check (scans > 0),
    first_at timestamptz not null,
    last_at timestamptz not null,
    primary key (product_id, day, lot, serial)
);

create index unknown_identifier_scans_day_idx on unknown_identifier_scans (day desc);
