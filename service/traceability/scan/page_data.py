"""The shopper page's data: one cheap version query per view, the full query only when something changed.

A per-worker cache (scan/caches.py) keeps each batch's page data under a version built from what can
change it (batch edits, recall and new events bump batches.updated_at/last_seq; product, producer and
certification edits are in the version too), so a recall shows on the very next scan.
"""

import uuid
from datetime import date, datetime

import asyncpg
import msgspec

from service.traceability.ports import PlaceRef


class Certification(msgspec.Struct, kw_only=True):
    kind: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    stars: int | None


class TimelineEvent(msgspec.Struct, kw_only=True):
    event_type: str
    biz_step: str
    disposition: str | None
    event_time: datetime
    place: str | None


class Producer(msgspec.Struct, kw_only=True):
    name: str
    verified: bool
    commune_name: str
    province_name: str
    lat: float | None
    lon: float | None


class UnitInfo(msgspec.Struct, kw_only=True):
    serial: str
    first_scanned_at: datetime | None
    scan_count: int
    flagged: bool
    flag_reason: str | None


class NotRegistered(msgspec.Struct, kw_only=True):
    """A lot or serial a shopper scanned that the producer never registered (the resolver walked up to the GTIN)."""

    lot: str | None = None
    serial: str | None = None


class PageData(msgspec.Struct, kw_only=True):
    """Everything the page and the app JSON show; batch fields are None on a product (GTIN-only) page."""

    product_id: uuid.UUID
    product_names: dict[str, str]
    product_descriptions: dict[str, str]
    gtin14: str | None
    category: str
    ocop_stars: int | None
    geographic_indication: str | None
    photos: list[str]
    producer: Producer
    certifications: list[Certification]
    batch_id: uuid.UUID | None = None
    code: str | None = None
    lot: str | None = None
    status: str | None = None
    recall_reason: str | None = None
    recalled_at: datetime | None = None
    harvest_date: date | None = None
    harvest_end: date | None = None
    expiry_date: date | None = None
    origin_commune: str | None = None
    events: list[TimelineEvent] = msgspec.field(default_factory=list)
    where_to_buy: list[str] = msgspec.field(default_factory=list)
    nearby: list[PlaceRef] = msgspec.field(default_factory=list)
    unit: UnitInfo | None = None
    not_registered: NotRegistered | None = None


class PageVersion(msgspec.Struct, frozen=True, kw_only=True):
    batch_id: uuid.UUID
    version: str
    unit: UnitInfo | None


# --- queries -------------------------------------------------------------------------------------

_CERTS = """
    (select coalesce(jsonb_agg(jsonb_build_object(
        'kind', c.kind, 'issuer', c.issuer, 'number', c.number, 'valid_from', c.valid_from,
        'valid_to', c.valid_to, 'stars', c.stars) order by c.valid_from desc), '[]'::jsonb)
     from certifications c where c.organization_id = o.id and (c.product_id is null or c.product_id = p.id))
"""
_PRODUCT = """
    p.id as product_id, p.names as product_names, p.descriptions as product_descriptions, p.gtin14, p.category,
    p.ocop_stars, p.geographic_indication, p.photos::text[] as photos,
    jsonb_build_object('name', o.name, 'verified', o.verification_status = 'verified',
        'commune_name', o.commune_name, 'province_name', o.province_name, 'lat', o.lat, 'lon', o.lon) as producer
"""


async def page_version(conn: asyncpg.Connection, code: str, serial: str | None) -> PageVersion | None:
    """The hot path's only query when the cache is warm: the batch's version and the unit's scan state."""
    row = await conn.fetchrow(
        """
        select b.id as batch_id,
               concat_ws('|', b.updated_at, b.last_seq, b.status, p.updated_at, o.updated_at,
                   (select concat(count(*), ':', max(c.created_at)) from certifications c
                    where c.organization_id = o.id)) as version,
               u.serial, u.first_scanned_at, u.scan_count, u.flagged_at is not null as flagged, u.flag_reason
        from batches b
        join products p on p.id = b.product_id
        join organizations o on o.id = b.organization_id
        left join units u on u.batch_id = b.id and u.serial = $2
        where b.code = $1
        """,
        code,
        serial,
    )
    if row is None:
        return None
    unit = None
    if row["serial"] is not None:
        unit = UnitInfo(
            serial=row["serial"],
            first_scanned_at=row["first_scanned_at"],
            scan_count=row["scan_count"],
            flagged=row["flagged"],
            flag_reason=row["flag_reason"],
        )
    return PageVersion(batch_id=row["batch_id"], version=row["version"], unit=unit)


async def batch_page_data(conn: asyncpg.Connection, batch_id: uuid.UUID) -> PageData | None:
    row = await conn.fetchrow(
        f"""
        select {_PRODUCT}, {_CERTS} as certifications,
               b.id as batch_id, b.code, b.lot, b.status, b.recall_reason, b.recalled_at, b.harvest_date,
               b.harvest_end, b.expiry_date, coalesce(pl.commune_name, o.commune_name) as origin_commune,
               (select coalesce(jsonb_agg(jsonb_build_object(
                    'event_type', e.event_type, 'biz_step', e.biz_step, 'disposition', e.disposition,
                    'event_time', e.event_time,
                    'place', coalesce(e.details ->> 'destination', e.biz_location, e.read_point))
                    order by e.event_time, e.seq), '[]'::jsonb)
                from (select * from events where batch_id = b.id order by event_time desc, seq desc limit 40) e
               ) as events,
               array(select distinct coalesce(e.details ->> 'destination', e.biz_location, e.read_point)
                     from events e
                     where e.batch_id = b.id
                       and e.biz_step in ('retail_selling', 'urn:epcglobal:cbv:bizstep:retail_selling')
                       and coalesce(e.details ->> 'destination', e.biz_location, e.read_point) is not null
                     limit 10) as where_to_buy
        from batches b
        join products p on p.id = b.product_id
        join organizations o on o.id = b.organization_id
        left join plots pl on pl.id = b.plot_id
        where b.id = $1
        """,  # noqa: S608 - constant fragments, no user data
        batch_id,
    )
    return None if row is None else msgspec.convert(dict(row), PageData)


async def product_page_data(conn: asyncpg.Connection, gtin14: str) -> PageData | None:
    row = await conn.fetchrow(
        f"""
        select {_PRODUCT}, {_CERTS} as certifications
        from products p join organizations o on o.id = p.organization_id
        where p.gtin14 = $1
        """,  # noqa: S608 - constant fragments, no user data
        gtin14,
    )
    return None if row is None else msgspec.convert(dict(row), PageData)


# --- the per-worker cache ------------------------------------------------------------------------


async def registered_qualifiers(
    conn: asyncpg.Connection, gtin14: str, lot: str | None, serial: str | None
) -> tuple[bool, bool]:
    """(is the lot registered for this GTIN, is the serial) — True for one not asked about."""
    row = await conn.fetchrow(
        """
        select $2::text is null or exists (
                   select 1 from batches b join products p on p.id = b.product_id
                   where p.gtin14 = $1 and b.lot = $2) as lot_known,
               $3::text is null or exists (
                   select 1 from units u join batches b on b.id = u.batch_id join products p on p.id = b.product_id
                   where p.gtin14 = $1 and u.serial = $3 and ($2::text is null or b.lot = $2)) as serial_known
        """,
        gtin14,
        lot,
        serial,
    )
    assert row is not None
    return bool(row["lot_known"]), bool(row["serial_known"])
