"""Public read interface for the shopper page, the resolver and tourism cross-links.

Each function costs one or two round trips (the shopper page is the hottest path) and returns only
public data: no contact details, no people, no private notes of other organizations.
"""

import uuid
from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec

from service.core.errors import NotFound
from service.traceability.chain import VN_TZ
from service.traceability.schemas import (
    BatchView,
    CertificationPublic,
    EventStep,
    OrganizationPublic,
    PlotPublic,
    ProducerRef,
    ProductHit,
    ProductPublic,
)
from service.traceability.vocab import step_label

_PUBLIC_ORG = """jsonb_build_object(
    'id', {o}.id, 'kind', {o}.kind, 'name', {o}.name, 'province_name', {o}.province_name,
    'commune_code', {o}.commune_code, 'commune_name', {o}.commune_name, 'former_district', {o}.former_district,
    'lat', {o}.lat, 'lon', {o}.lon, 'verified', {o}.verification_status = 'verified', 'standards', {o}.standards)"""

# The batch with product, producer, cooperative, plot and today's valid certificates: one statement.
_BATCH_VIEW_SQL = f"""
select b.id, b.lot, b.code, b.status, b.recall_reason, b.recalled_at, b.phi_violation, b.quantity, b.unit,
       b.harvest_date, b.harvest_end, b.expiry_date, b.photos, b.created_at,
       p.id as product_id, p.gtin14, p.names, p.descriptions, p.category, p.ocop_stars, p.geographic_indication,
       p.photos as product_photos, p.shelf_life_days,
       {_PUBLIC_ORG.format(o="o")} as producer,
       case when c.id is null then null else {_PUBLIC_ORG.format(o="c")} end as cooperative,
       case when pl.id is null then null else jsonb_build_object(
           'id', pl.id, 'name', pl.name, 'commune_code', pl.commune_code, 'commune_name', pl.commune_name,
           'lat', pl.lat, 'lon', pl.lon) end as plot,
       coalesce((
           select jsonb_agg(jsonb_build_object(
                      'kind', ct.kind, 'issuer', ct.issuer, 'number', ct.number, 'valid_from', ct.valid_from,
                      'valid_to', ct.valid_to, 'stars', ct.stars, 'decision_number', ct.decision_number,
                      'product_id', ct.product_id) order by ct.valid_from desc)
           from certifications ct
           where ct.organization_id in (o.id, c.id) and (ct.product_id is null or ct.product_id = p.id)
             and ct.valid_from <= $2 and (ct.valid_to is null or ct.valid_to >= $2)
       ), '[]'::jsonb) as certifications
from batches b
join products p on p.id = b.product_id
join organizations o on o.id = b.organization_id
left join organizations c on c.id = o.parent_id
left join plots pl on pl.id = b.plot_id
"""  # noqa: S608 - constant fragments only

_EVENTS_SQL = """
select seq, event_type, biz_step, disposition, event_time, quantity, unit, details
from events where batch_id = $1 order by event_time, seq
"""


def _name(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("vi") or next(iter(texts.values()), "")


def _today() -> date:
    return datetime.now(VN_TZ).date()


async def _view(conn: asyncpg.Connection, where: str, args: list[Any], lang: str) -> BatchView | None:
    row = await conn.fetchrow(_BATCH_VIEW_SQL + where, *args)  # where: one of the constant clauses below
    if row is None:
        return None
    events = await conn.fetch(_EVENTS_SQL, row["id"])
    plot = None if row["plot"] is None else msgspec.convert(row["plot"], PlotPublic)
    producer = msgspec.convert(row["producer"], OrganizationPublic)
    where_name = plot.name if plot else producer.name
    steps = []
    for e in events:
        details = e["details"]
        steps.append(
            EventStep(
                seq=e["seq"],
                event_type=e["event_type"],
                biz_step=e["biz_step"],
                disposition=e["disposition"],
                label=step_label(e["event_type"], e["biz_step"], e["disposition"], lang),
                event_time=e["event_time"].astimezone(VN_TZ),
                where=where_name if e["biz_step"] == "commissioning" else producer.name,
                quantity=e["quantity"],
                unit=e["unit"],
                result=details.get("result"),
                notes=details.get("notes") or details.get("reason"),
                destination=details.get("destination"),
            )
        )
    names: dict[str, str] = row["names"]
    return BatchView(
        id=row["id"],
        lot=row["lot"],
        code=row["code"],
        status=row["status"],
        recall_reason=row["recall_reason"],
        recalled_at=row["recalled_at"],
        phi_violation=row["phi_violation"],
        quantity=row["quantity"],
        unit=row["unit"],
        harvest_date=row["harvest_date"],
        harvest_end=row["harvest_end"],
        expiry_date=row["expiry_date"],
        photos=row["photos"],
        created_at=row["created_at"],
        product=ProductPublic(
            id=row["product_id"],
            gtin14=row["gtin14"],
            name=_name(names, lang),
            names=names,
            description=_name(row["descriptions"], lang) or None,
            category=row["category"],
            ocop_stars=row["ocop_stars"],
            geographic_indication=row["geographic_indication"],
            photos=row["product_photos"],
            shelf_life_days=row["shelf_life_days"],
        ),
        producer=producer,
        cooperative=None if row["cooperative"] is None else msgspec.convert(row["cooperative"], OrganizationPublic),
        plot=plot,
        certifications=msgspec.convert(row["certifications"], list[CertificationPublic]),
        events=steps,
    )


async def batch_view(conn: asyncpg.Connection, batch_id: uuid.UUID, lang: str = "vi") -> BatchView | None:
    """Everything public about a batch, by id; None when unknown. Two round trips."""
    return await _view(conn, "where b.id = $1", [batch_id, _today()], lang)


async def batch_view_by_code(conn: asyncpg.Connection, code: str, lang: str = "vi") -> BatchView | None:
    """By the short /q/{code} identifier."""
    return await _view(conn, "where b.code = $1", [code, _today()], lang)


async def batch_view_by_lot(conn: asyncpg.Connection, gtin14: str, lot: str, lang: str = "vi") -> BatchView | None:
    """By GS1 Digital Link keys (01) GTIN-14 and (10) lot."""
    return await _view(conn, "where p.gtin14 = $1 and b.lot = $3", [gtin14, _today(), lot], lang)


async def product_by_gtin(conn: asyncpg.Connection, gtin14: str, lang: str = "vi") -> ProductPublic | None:
    """The product behind a bare /01/{gtin} (no lot)."""
    row = await conn.fetchrow(
        "select id, gtin14, names, descriptions, category, ocop_stars, geographic_indication, photos, "
        "shelf_life_days from products where gtin14 = $1",
        gtin14,
    )
    if row is None:
        return None
    return ProductPublic(
        id=row["id"],
        gtin14=row["gtin14"],
        name=_name(row["names"], lang),
        names=row["names"],
        description=_name(row["descriptions"], lang) or None,
        category=row["category"],
        ocop_stars=row["ocop_stars"],
        geographic_indication=row["geographic_indication"],
        photos=row["photos"],
        shelf_life_days=row["shelf_life_days"],
    )


async def producer(conn: asyncpg.Connection, org_id: uuid.UUID) -> OrganizationPublic:
    row = await conn.fetchval(f"select {_PUBLIC_ORG.format(o='o')} from organizations o where o.id = $1", org_id)  # noqa: S608
    if row is None:
        raise NotFound("no producer with this id", code="producer_not_found")
    return msgspec.convert(row, OrganizationPublic)


async def producers_near(
    conn: asyncpg.Connection, lat: float, lon: float, radius_km: float, lang: str = "vi", limit: int = 10
) -> list[ProducerRef]:
    """Producers with a location within radius_km, nearest first, with their product names. One round trip."""
    rows = await conn.fetch(
        """
        select * from (
            select o.id, o.name, o.kind, o.commune_name, o.lat, o.lon,
                   o.verification_status = 'verified' as verified,
                   6371.0088 * 2 * asin(sqrt(
                       power(sin(radians(o.lat - $1) / 2), 2)
                       + cos(radians($1)) * cos(radians(o.lat)) * power(sin(radians(o.lon - $2) / 2), 2)
                   )) as distance_km,
                   (select max(p.ocop_stars) from products p where p.organization_id = o.id) as max_ocop_stars,
                   coalesce((select array_agg(coalesce(p.names ->> $4, p.names ->> 'vi') order by p.ocop_stars
                                              desc nulls last, p.created_at)
                             from products p where p.organization_id = o.id), '{}') as products
            from organizations o
            where o.lat is not null
              and o.lat between $1 - $3 / 111.0 and $1 + $3 / 111.0
              and o.lon between $2 - $3 / (111.0 * greatest(cos(radians($1)), 0.01))
                            and $2 + $3 / (111.0 * greatest(cos(radians($1)), 0.01))
        ) near
        where distance_km <= $3
        order by distance_km, id
        limit $5
        """,
        lat,
        lon,
        radius_km,
        lang,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[ProducerRef])


def _like_pattern(folded_query: str) -> str:
    escaped = folded_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_products(
    conn: asyncpg.Connection, folded_query: str, lang: str = "vi", limit: int = 20
) -> list[ProductHit]:
    """Products whose names contain every word of the query (accents folded: see places.fold). One round trip."""
    rows = await conn.fetch(
        """
        select p.id, coalesce(p.names ->> $2, p.names ->> 'vi') as name, p.category, p.gtin14, p.ocop_stars,
               o.id as producer_id, o.name as producer_name, o.commune_name, o.lat, o.lon
        from products p join organizations o on o.id = p.organization_id
        where p.search_text like all($1::text[])
        order by p.ocop_stars desc nulls last, p.id
        limit $3
        """,
        [_like_pattern(word) for word in folded_query.split()] or ["%"],
        lang,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[ProductHit])
