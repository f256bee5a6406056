"""The producer page a person reads (`/producers/{id}`): the farm's story, its products, certificates with who
verified them, batches on sale, its named places, and heritage sites nearby. One query for the producer's
data; the nearby sites come through the `NearbySites` port.

Public data only: no contact details, no people; a household's position is rounded as everywhere else.
"""

import uuid
from datetime import date

import asyncpg
import msgspec

from service.core.errors import NotFound
from service.core.html_page import BASE_CSS, e, html_document
from service.media.pictures import THUMB_SIZES, Picture, img_html, media_pictures
from service.traceability.ports import NearbySites, PlaceRef
from service.traceability.registry.queries import PUBLIC_LAT, PUBLIC_LON, VERIFIED_OCOP_STARS
from service.traceability.scan.page_data import CERTS, Certification, Claim, PlaceName
from service.traceability.scan.page_html import CSS as SHOPPER_CSS
from service.traceability.scan.page_html import certificate_item, claim_tag
from service.traceability.scan.page_text import TEXT

NEARBY_SITES = 5
MAX_BATCHES = 20
# The shopper page's look (claim labels, stars) over the shared base.
PRODUCER_CSS = (
    BASE_CSS
    + SHOPPER_CSS[SHOPPER_CSS.index(".alert") :]
    + ".cards{list-style:none;padding:0}.cards li{overflow:hidden;min-height:4.5rem}"
    ".cards img{float:left;width:6rem;height:auto;margin:0 .7rem .3rem 0}"
)


class ProductCard(msgspec.Struct, kw_only=True):
    names: dict[str, str]
    gtin14: str | None
    ocop_stars: int | None
    photo: uuid.UUID | None
    picture: Picture | None = None


class BatchOnSale(msgspec.Struct, kw_only=True):
    code: str
    lot: str
    product_names: dict[str, str]
    harvest_date: date | None


class ProducerPage(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: str
    description: dict[str, str]
    commune_name: str
    province_name: str
    lat: float | None
    lon: float | None
    verification: Claim | None
    standards: list[str]
    products: list[ProductCard]
    certifications: list[Certification]
    batches: list[BatchOnSale]
    places: list[PlaceName]
    photos: list[uuid.UUID]
    nearby: list[PlaceRef] = msgspec.field(default_factory=list)
    farm_picture: Picture | None = None


async def producer_page_data(conn: asyncpg.Connection, org_id: uuid.UUID) -> ProducerPage:
    row = await conn.fetchrow(
        f"""
        select o.id, o.name, o.kind, o.description, o.commune_name, o.province_name, o.standards, o.photos,
               {PUBLIC_LAT.format(o="o")} as lat, {PUBLIC_LON.format(o="o")} as lon,
               case when o.verification_status = 'verified' then
                   (select jsonb_build_object('kind', 'verified', 'by', a.name, 'at', r.created_at)
                    from organization_reviews r join authorities a on a.id = r.authority_id
                    where r.organization_id = o.id order by r.created_at desc, r.id desc limit 1) end as verification,
               (select coalesce(jsonb_agg(jsonb_build_object(
                    'names', p.names, 'gtin14', p.gtin14, 'ocop_stars', {VERIFIED_OCOP_STARS.format(p="p")},
                    'photo', p.photos[1]) order by p.created_at, p.id), '[]'::jsonb)
                from products p where p.organization_id = o.id) as products,
               (select coalesce(jsonb_agg(jsonb_build_object(
                    'code', b.code, 'lot', b.lot, 'product_names', bp.names, 'harvest_date', b.harvest_date)
                    order by b.created_at desc), '[]'::jsonb)
                from (select * from batches where organization_id = o.id and status = 'active'
                      order by created_at desc limit {MAX_BATCHES}) b
                join products bp on bp.id = b.product_id) as batches,
               (select coalesce(jsonb_agg(jsonb_build_object(
                    'names', pl.names, 'kind', pl.kind, 'commune_name', pl.commune_name)
                    order by pl.kind, pl.names ->> 'vi'), '[]'::jsonb)
                from places pl where pl.organization_id = o.id) as places,
               {CERTS.replace("(c.product_id is null or c.product_id = p.id)", "true")} as certifications
        from organizations o
        where o.id = $1
        """,  # noqa: S608 - constant SQL fragments, the id as a parameter
        org_id,
    )
    if row is None:
        raise NotFound("no producer with this id", code="producer_not_found")
    return msgspec.convert(dict(row), ProducerPage)


async def producer_page(
    conn: asyncpg.Connection, org_id: uuid.UUID, nearby_sites: NearbySites | None, lang: str
) -> ProducerPage:
    page = await producer_page_data(conn, org_id)
    ids = [*page.photos, *(product.photo for product in page.products if product.photo is not None)]
    drawn = {picture.id: picture for picture in await media_pictures(conn, "", ids)}
    page.farm_picture = next((drawn[i] for i in page.photos if i in drawn), None)
    for product in page.products:
        product.picture = drawn.get(product.photo) if product.photo is not None else None
    if nearby_sites is not None and page.lat is not None and page.lon is not None:
        page.nearby = await nearby_sites.near(page.lat, page.lon, lang, NEARBY_SITES)
    return page


WORDS = {
    "vi": {
        "story": "Giới thiệu",
        "products": "Sản phẩm",
        "on_sale": "Lô hàng đang bán",
        "harvest": "thu hoạch",
        "places": "Nơi sản xuất và nơi bán",
        "standards": "Tiêu chuẩn áp dụng (tự khai)",
        "kinds": "household:Hộ sản xuất|cooperative:Hợp tác xã|enterprise:Doanh nghiệp",
        "place_kinds": "farm:Vùng trồng|packhouse:Xưởng sơ chế|warehouse:Kho|shop:Cửa hàng|market:Chợ",
    },
    "en": {
        "story": "About",
        "products": "Products",
        "on_sale": "Batches on sale",
        "harvest": "harvested",
        "places": "Where it is made and sold",
        "standards": "Standards applied (declared)",
        "kinds": "household:Household farm|cooperative:Cooperative|enterprise:Enterprise",
        "place_kinds": "farm:Farm|packhouse:Packhouse|warehouse:Warehouse|shop:Shop|market:Market",
    },
}


def _lookup(table: str, key: str) -> str:
    pairs = dict(part.split(":", 1) for part in table.split("|"))
    return pairs.get(key, key)


def _name(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("vi") or next(iter(names.values()), "")


def render_producer_page(page: ProducerPage, lang: str, today: date) -> str:
    t, w = TEXT[lang], WORDS[lang]
    out = [f"<h1>{e(page.name)}</h1>"]
    kind = _lookup(w["kinds"], page.kind)
    out.append(f"<p>{e(kind)} · {e(page.commune_name)}, {e(page.province_name)}")
    if page.lat is not None and page.lon is not None:
        approximate = page.kind == "household"
        zoom, digits = (13, 2) if approximate else (15, 5)
        out.append(
            f' · <a href="https://www.openstreetmap.org/?mlat={page.lat:.{digits}f}&amp;mlon={page.lon:.{digits}f}'
            f'#map={zoom}/{page.lat:.{digits}f}/{page.lon:.{digits}f}">{t["map" if approximate else "map_exact"]}</a>'
        )
    out.append("</p>")
    if page.verification is not None:
        out.append(f"<p>{t['producer_verified']} {claim_tag(page.verification, lang)}</p>")
    if page.farm_picture is not None:
        out.append(img_html(page.farm_picture, f"{t['photo']}: {page.name}"))
    story = _name(page.description, lang) if page.description else ""
    if story:
        out.append(f"<h2>{w['story']}</h2><p>{e(story)} {claim_tag(None, lang)}</p>")
    if page.products:
        out.append(f'<h2 id="products">{w["products"]}</h2><ul class="cards">')
        for product in page.products:
            plain = _name(product.names, lang)
            # alt="": the product's name follows the thumbnail inside the same link
            thumb = img_html(product.picture, "", sizes=THUMB_SIZES) if product.picture is not None else ""
            name = thumb + e(plain)
            if product.gtin14:
                name = f'<a href="/p/{e(product.gtin14)}?lang={lang}">{name}</a>'
            stars = f' <span class="stars">{"★" * product.ocop_stars}</span> OCOP' if product.ocop_stars else ""
            out.append(f"<li>{name}{stars}</li>")
        out.append("</ul>")
    if page.certifications:
        out.append(f'<h2 id="certs">{t["certs"]}</h2><ul>')
        out.extend(certificate_item(c, lang, today) for c in page.certifications)
        out.append("</ul>")
    if page.batches:
        out.append(f'<h2 id="batches">{w["on_sale"]}</h2><ul>')
        for batch in page.batches:
            harvest = (
                f' <span class="muted">{w["harvest"]} {batch.harvest_date:%d/%m/%Y}</span>'
                if batch.harvest_date
                else ""
            )
            out.append(
                f'<li><a href="/trace/{e(batch.code)}?lang={lang}">{e(_name(batch.product_names, lang))}</a> '
                f"– {t['lot']} {e(batch.lot)}{harvest}</li>"
            )
        out.append("</ul>")
    if page.places:
        out.append(f'<h2 id="places">{w["places"]}</h2><ul>')
        for place in page.places:
            kind_words = _lookup(w["place_kinds"], place.kind or "")
            commune = f" ({e(place.commune_name)})" if place.commune_name else ""
            out.append(f"<li>{e(kind_words)}: {e(place.name(lang))}{commune}</li>")
        out.append("</ul>")
    if page.standards:
        out.append(f"<h2>{w['standards']}</h2><p>{e(', '.join(page.standards))}</p>")
    if page.nearby:
        out.append(f'<h2 id="nearby">{t["nearby"]}</h2><ul>')
        for site in page.nearby:
            km = f' <span class="muted">{site.distance_km:.1f} km</span>' if site.distance_km is not None else ""
            out.append(f'<li><a href="{e(site.url)}">{e(site.name)}</a>{km}</li>')
        out.append("</ul>")
    return html_document(
        lang=lang, title=page.name, css=PRODUCER_CSS, body="".join(out), other_lang_label=t["other_lang"]
    )
