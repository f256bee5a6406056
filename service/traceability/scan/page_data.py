"""The shopper page's data: one cheap version query per view, the full query only when something changed.

A per-worker cache (scan/caches.py) keeps each batch's page data under a version built from what can
change it (batch edits, recall and new events bump batches.updated_at/last_seq; product, producer and
certification edits are in the version too), so a recall shows on the very next scan.
"""

import uuid
from datetime import date, datetime
from typing import Literal

import asyncpg
import msgspec

from service.media.pictures import Picture
from service.traceability.batches.events import check_chain
from service.traceability.batches.queries import batch_head, events_of
from service.traceability.ports import PlaceRef
from service.traceability.registry.queries import PUBLIC_LAT, PUBLIC_LON, VN_TODAY

# Who made a public claim: the producer declared it, an inspector verified it for an authority, or the
# system derived it (scan counts, chain validity). Shown differently on the page, stated in the JSON.
ClaimKind = Literal["declared", "verified", "derived"]
SYSTEM_NAME = "Thái Nguyên Trace & Tour"


class Claim(msgspec.Struct, kw_only=True):
    kind: ClaimKind
    by: str | None  # the producer's name, the authority's name, or the system's
    at: datetime | None = None


class Certification(msgspec.Struct, kw_only=True):
    kind: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    stars: int | None
    # declared: awaiting an inspector; verified: an inspector checked it; expired: past valid_to
    status: Literal["declared", "verified", "expired"]
    claim: Claim


class PlaceName(msgspec.Struct, kw_only=True):
    """Where something happened, in words: a place from the register, or the producer's free-text destination."""

    names: dict[str, str]  # {"vi": ..., "en": ...}; vi always there
    kind: str | None = None  # farm, packhouse, warehouse, shop, market (None for free text)
    commune_name: str | None = None

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["vi"]


class TimelineEvent(msgspec.Struct, kw_only=True):
    event_type: str
    biz_step: str
    disposition: str | None
    event_time: datetime
    place: PlaceName | None
    claim: Claim  # declared by the producer, or verified (inspections, recalls) by an authority


class Producer(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: str
    verified: bool
    verification: Claim | None  # who verified the producer, and when
    commune_name: str
    province_name: str
    lat: float | None  # a household's home: rounded to about 1 km
    lon: float | None


class ChainStatus(msgspec.Struct, kw_only=True):
    """The batch's hash chain recomputed when the page was built: a derived claim."""

    valid: bool
    events: int
    claim: Claim


class UnitInfo(msgspec.Struct, kw_only=True):
    serial: str
    first_scanned_at: datetime | None
    scan_count: int
    claim: Claim  # the counts are derived by the system
    counterfeit: Claim | None = None  # only once an inspector confirmed it


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
    ocop_stars: int | None  # from a verified, unexpired OCOP certificate only
    ocop_claim: Claim | None
    geographic_indication: str | None
    photos: list[str]
    producer: Producer
    farm_photos: list[str] = msgspec.field(default_factory=list)
    batch_photos: list[str] = msgspec.field(default_factory=list)
    # the photos as the page draws them (srcset, size): product photos first, then the batch's
    pictures: list[Picture] = msgspec.field(default_factory=list)
    farm_picture: Picture | None = None
    certifications: list[Certification]
    batch_id: uuid.UUID | None = None
    code: str | None = None
    lot: str | None = None
    batch_claim: Claim | None = None  # lot, dates and origin: declared by the producer
    status: str | None = None
    recall_reason: str | None = None
    recalled_at: datetime | None = None
    harvest_date: date | None = None
    harvest_end: date | None = None
    expiry_date: date | None = None
    origin_commune: str | None = None
    events: list[TimelineEvent] = msgspec.field(default_factory=list)
    chain: ChainStatus | None = None
    where_to_buy: list[PlaceName] = msgspec.field(default_factory=list)
    nearby: list[PlaceRef] = msgspec.field(default_factory=list)
    unit: UnitInfo | None = None
    not_registered: NotRegistered | None = None


class PageVersion(msgspec.Struct, frozen=True, kw_only=True):
    batch_id: uuid.UUID
    version: str
    unit: UnitInfo | None


# --- queries -------------------------------------------------------------------------------------

_LATEST_REVIEW = """left join lateral (
        select decision, authority_id, created_at from certification_reviews
        where certification_id = {c}.id order by created_at desc, id desc limit 1
    ) {r} on true"""
# Rejected certificates are not claims any more: they are not shown.
CERTS = f"""
    (select coalesce(jsonb_agg(jsonb_build_object(
        'kind', c.kind, 'issuer', c.issuer, 'number', c.number, 'valid_from', c.valid_from,
        'valid_to', c.valid_to, 'stars', c.stars,
        'status', case when c.valid_to < {VN_TODAY} then 'expired'
                       when r.decision = 'verified' then 'verified' else 'declared' end,
        'claim', case when r.decision = 'verified'
                      then jsonb_build_object('kind', 'verified', 'by', a.name, 'at', r.created_at)
                      else jsonb_build_object('kind', 'declared', 'by', o.name, 'at', c.created_at) end)
        order by r.decision = 'verified' desc nulls last, c.valid_from desc), '[]'::jsonb)
     from certifications c
     {_LATEST_REVIEW.format(c="c", r="r")}
     left join authorities a on a.id = r.authority_id
     where c.organization_id = o.id and (c.product_id is null or c.product_id = p.id)
       and r.decision is distinct from 'rejected')
"""  # noqa: S608 - constant SQL fragment
_PRODUCT = f"""
    p.id as product_id, p.names as product_names, p.descriptions as product_descriptions, p.gtin14, p.category,
    ocop.stars as ocop_stars,
    case when ocop.stars is not null
         then jsonb_build_object('kind', 'verified', 'by', ocop.authority, 'at', ocop.verified_at) end as ocop_claim,
    p.geographic_indication, p.photos::text[] as photos, o.photos::text[] as farm_photos,
    jsonb_build_object('id', o.id, 'name', o.name, 'kind', o.kind, 'verified', o.verification_status = 'verified',
        'verification', case when o.verification_status = 'verified'
                             then jsonb_build_object('kind', 'verified', 'by', ov.authority, 'at', ov.at) end,
        'commune_name', o.commune_name, 'province_name', o.province_name,
        'lat', {PUBLIC_LAT.format(o="o")}, 'lon', {PUBLIC_LON.format(o="o")}) as producer
"""
# The product, its producer, the best verified unexpired OCOP certificate, the producer's latest verification.
_FROM_PRODUCT = f"""
    products p
    join organizations o on o.id = p.organization_id
    left join lateral (
        select oc.stars, oa.name as authority, orv.created_at as verified_at
        from certifications oc
        {_LATEST_REVIEW.format(c="oc", r="orv")}
        join authorities oa on oa.id = orv.authority_id
        where oc.kind = 'ocop' and oc.product_id = p.id and orv.decision = 'verified'
          and oc.valid_from <= {VN_TODAY} and (oc.valid_to is null or oc.valid_to >= {VN_TODAY})
        order by oc.stars desc limit 1
    ) ocop on true
    left join lateral (
        select va.name as authority, vr.created_at as at
        from organization_reviews vr join authorities va on va.id = vr.authority_id
        where vr.organization_id = o.id order by vr.created_at desc, vr.id desc limit 1
    ) ov on true
"""  # noqa: S608 - constant SQL fragment
# An event's place in words: the register's current names, else the name kept in the hashed details, else
# the free-text destination. Never a URI: readPoint/bizLocation stay in EPCIS, not on the page.
_EVENT_PLACE = """case when pn.id is not null
        then jsonb_build_object('names', pn.names, 'kind', pn.kind, 'commune_name', pn.commune_name)
        when e.details -> 'place' ->> 'name' is not null
        then jsonb_build_object('names', jsonb_build_object('vi', e.details -> 'place' ->> 'name'))
        when e.details ->> 'destination' is not null
        then jsonb_build_object('names', jsonb_build_object('vi', e.details ->> 'destination')) end"""
_PLACE_JOIN = "left join places pn on pn.id::text = e.details -> 'place' ->> 'id'"
_EVENT_CLAIM = """case when e.biz_step = 'inspecting' or e.disposition = 'recalled'
        then jsonb_build_object('kind', 'verified', 'by', e.details -> 'authority' ->> 'name', 'at', e.record_time)
        else jsonb_build_object('kind', 'declared', 'by', o.name, 'at', e.record_time) end"""


def _unit(row: asyncpg.Record) -> UnitInfo | None:
    if row["serial"] is None:
        return None
    counterfeit = None
    if row["flagged_at"] is not None:
        counterfeit = Claim(kind="verified", by=row["confirmed_by"], at=row["flagged_at"])
    return UnitInfo(
        serial=row["serial"],
        first_scanned_at=row["first_scanned_at"],
        scan_count=row["scan_count"],
        claim=Claim(kind="derived", by=SYSTEM_NAME),
        counterfeit=counterfeit,
    )


async def page_version(conn: asyncpg.Connection, code: str, serial: str | None) -> PageVersion | None:
    """The hot path's only query when the cache is warm: the batch's version and the unit's scan state."""
    row = await conn.fetchrow(
        """
        select b.id as batch_id,
               concat_ws('|', b.updated_at, b.last_seq, b.status, p.updated_at, o.updated_at,
                   (select concat(count(*), ':', max(c.created_at)) from certifications c
                    where c.organization_id = o.id),
                   (select concat(count(*), ':', max(r.created_at)) from certification_reviews r
                    join certifications c on c.id = r.certification_id where c.organization_id = o.id),
                   (select max(pl.updated_at) from places pl
                    where pl.organization_id in (o.id, o.parent_id))) as version,
               u.serial, u.first_scanned_at, u.scan_count, u.flagged_at,
               case when u.flagged_at is not null then
                   (select a.name from scan_alerts sa
                    join scan_alert_reviews r on r.alert_id = sa.id
                    join authorities a on a.id = r.authority_id
                    where sa.unit_id = u.id and r.decision = 'confirmed_counterfeit'
                    order by r.created_at desc limit 1) end as confirmed_by
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
    return PageVersion(batch_id=row["batch_id"], version=row["version"], unit=_unit(row))


async def batch_page_data(conn: asyncpg.Connection, batch_id: uuid.UUID) -> PageData | None:
    row = await conn.fetchrow(
        f"""
        select {_PRODUCT}, {CERTS} as certifications,
               b.id as batch_id, b.code, b.lot, b.photos::text[] as batch_photos,
               b.status, b.recall_reason, b.recalled_at, b.harvest_date,
               b.harvest_end, b.expiry_date, coalesce(pl.commune_name, o.commune_name) as origin_commune,
               jsonb_build_object('kind', 'declared', 'by', o.name, 'at', b.created_at) as batch_claim,
               (select coalesce(jsonb_agg(jsonb_build_object(
                    'event_type', e.event_type, 'biz_step', e.biz_step, 'disposition', e.disposition,
                    'event_time', e.event_time,
                    'place', {_EVENT_PLACE},
                    'claim', {_EVENT_CLAIM})
                    order by e.event_time, e.seq), '[]'::jsonb)
                from (select * from events where batch_id = b.id order by event_time desc, seq desc limit 40) e
                {_PLACE_JOIN}
               ) as events,
               (select coalesce(jsonb_agg(distinct w.place), '[]'::jsonb) from (
                    select {_EVENT_PLACE} as place
                    from events e {_PLACE_JOIN}
                    where e.batch_id = b.id
                      and e.biz_step in ('retail_selling', 'urn:epcglobal:cbv:bizstep:retail_selling')
                    limit 10) w
                where w.place is not null) as where_to_buy
        from batches b
        join ({_FROM_PRODUCT}) on p.id = b.product_id
        left join plots pl on pl.id = b.plot_id
        where b.id = $1
        """,  # noqa: S608 - constant fragments, no user data
        batch_id,
    )
    if row is None:
        return None
    data = msgspec.convert(dict(row), PageData)
    report = check_chain(batch_id, await events_of(conn, batch_id), await batch_head(conn, batch_id))
    data.chain = ChainStatus(
        valid=report.valid, events=report.events, claim=Claim(kind="derived", by=SYSTEM_NAME, at=None)
    )
    return data


async def product_page_data(conn: asyncpg.Connection, gtin14: str) -> PageData | None:
    row = await conn.fetchrow(
        f"""
        select {_PRODUCT}, {CERTS} as certifications
        from {_FROM_PRODUCT}
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
