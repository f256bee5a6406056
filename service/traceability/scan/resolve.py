"""The GS1-conformant resolver's logic: identifier -> target (one query), links per level, linkset, redirects.

Link types are GS1 Web Vocabulary terms (https://gs1.org/voc/). Each level of the identifier tree
(GTIN -> lot -> serial) has its own links; a request gets the links of its level and every level
above it (walk-up), and exactly one default link: the most specific shopper page.

A lot or serial of a known GTIN that the producer never registered walks up to the GTIN: its links are
the GTIN's, their pages carrying the unknown qualifier so the product page can say plainly that this
lot or serial is not in the producer's records (without calling the product fake).
"""

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_plus

import asyncpg
import msgspec

from service.core.db import AnyPool, ReadPool, borrow
from service.traceability.batches.epcis import BatchIds
from service.traceability.identifiers.digital_link import DigitalLink, ShortLink

if TYPE_CHECKING:  # caches hold Targets: a runtime import would be a cycle
    from service.traceability.scan.caches import TraceCaches

GS1_VOC = "https://gs1.org/voc/"
LINKSET_TYPE = "application/linkset+json"
LINKSET_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
EPCIS_TYPE = "application/ld+json"
LANGS = ["vi", "en"]
# linkType values a client may ask for, besides linkset/all.
SUPPORTED_LINK_TYPES = ("defaultLink", "pip", "traceability", "epcis", "certificationInfo", "verificationService")
# Contexts that tell two links of one type apart (?context=batch or ?context=product).
BATCH_CONTEXT = "batch"
PRODUCT_CONTEXT = "product"
# the EPCIS query interface for partners (API clients): ?linkType=gs1:epcis&context=partner
PARTNER_CONTEXT = "partner"
# Query parameters the resolver itself consumes; every other pair is passed on to the target.
RESOLVER_PARAMETERS = frozenset({"linkType", "context"})


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """What an identifier resolved to; batch fields are None for a GTIN-only request."""

    product_id: uuid.UUID
    product_name: str
    gtin14: str | None
    batch_id: uuid.UUID | None = None
    code: str | None = None
    lot: str | None = None
    status: str | None = None
    has_certifications: bool = False
    unit_id: uuid.UUID | None = None
    serial: str | None = None
    # set when the request's lot or serial is not registered and the resolver walked up to the GTIN
    unknown_lot: str | None = None
    unknown_serial: str | None = None

    @property
    def walked_up(self) -> bool:
        return self.unknown_lot is not None or self.unknown_serial is not None


class Link(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    href: str
    title: str
    type: str
    hreflang: list[str] = msgspec.field(default_factory=lambda: list(LANGS))
    # what the link is about when one link type has several: "batch" or "product" (the ?context= a client sends)
    context: list[str] | None = None


_BATCH_COLUMNS = """
    p.id as product_id, p.names ->> 'vi' as product_name, p.gtin14, b.id as batch_id, b.code, b.lot, b.status,
    exists (
        select 1 from certifications c
        where c.organization_id = b.organization_id and (c.product_id is null or c.product_id = p.id)
          and (c.valid_to is null or c.valid_to >= current_date)
    ) as has_certifications
"""


async def resolve_digital_link(conn: asyncpg.Connection, link: DigitalLink) -> Target | None:
    """The target of the link's own level; an unregistered lot or serial of a known GTIN walks up to the GTIN."""
    found = await _resolve_level(conn, link)
    if found is not None or (link.lot is None and link.serial is None):
        return found
    product = await _resolve_level(conn, DigitalLink(gtin=link.gtin))
    if product is None:
        return None
    return msgspec.structs.replace(product, unknown_lot=link.lot, unknown_serial=link.serial)


async def _resolve_level(conn: asyncpg.Connection, link: DigitalLink) -> Target | None:
    """One round trip whatever the level."""
    if link.lot is None and link.serial is None:
        row = await conn.fetchrow(
            "select id as product_id, names ->> 'vi' as product_name, gtin14 from products where gtin14 = $1",
            link.gtin,
        )
    elif link.serial is None:
        row = await conn.fetchrow(
            f"""
            select {_BATCH_COLUMNS}
            from batches b join products p on p.id = b.product_id
            where p.gtin14 = $1 and b.lot = $2
            """,  # noqa: S608 - constant column list
            link.gtin,
            link.lot,
        )
    else:
        row = await conn.fetchrow(
            f"""
            select {_BATCH_COLUMNS}, u.id as unit_id, u.serial
            from units u join batches b on b.id = u.batch_id join products p on p.id = b.product_id
            where u.serial = $1 and p.gtin14 = $2 and ($3::text is null or b.lot = $3)
            """,  # noqa: S608 - constant column list
            link.serial,
            link.gtin,
            link.lot,
        )
    return None if row is None else msgspec.convert(dict(row), Target)


async def resolve_short_link(conn: asyncpg.Connection, link: ShortLink) -> Target | None:
    if link.serial is None:
        row = await conn.fetchrow(
            f"select {_BATCH_COLUMNS} from batches b join products p on p.id = b.product_id where b.code = $1",  # noqa: S608
            link.code,
        )
    else:
        row = await conn.fetchrow(
            f"""
            select {_BATCH_COLUMNS}, u.id as unit_id, u.serial
            from units u join batches b on b.id = u.batch_id join products p on p.id = b.product_id
            where b.code = $1 and u.serial = $2
            """,  # noqa: S608 - constant column list
            link.code,
            link.serial,
        )
    return None if row is None else msgspec.convert(dict(row), Target)


# --- links ---------------------------------------------------------------------------------------


def product_page(
    base_url: str, gtin14: str, *, unknown_lot: str | None = None, unknown_serial: str | None = None
) -> str:
    """The product page; with the lot or serial a shopper scanned that the producer never registered."""
    asked = [(name, value) for name, value in (("lot", unknown_lot), ("serial", unknown_serial)) if value is not None]
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in asked)
    return f"{base_url}/p/{gtin14}" + (f"?{query}" if query else "")


def batch_page(base_url: str, code: str, serial: str | None = None) -> str:
    return f"{base_url}/trace/{code}" + (f"/{serial}" if serial else "")


def batch_epcis(base_url: str, code: str) -> str:
    """The batch's public EPCIS 2.0 history (JSON-LD), served without a token."""
    return f"{base_url}/trace/{code}/epcis"


def partner_query(base_url: str, target: "Target") -> str:
    """The EPCIS 2.0 query interface for partners (client credentials), filtered to this lot's class URI."""
    class_uri = BatchIds(target.gtin14, target.lot or "", target.code or "").class_uri(base_url)
    return f"{base_url}/epcis/events?MATCH_epcClass={quote(class_uri, safe='')}"


def links_by_level(target: Target, base_url: str) -> list[dict[str, list[Link]]]:
    """Links of each level, most specific first: unit, batch, product (GTIN)."""
    levels: list[dict[str, list[Link]]] = []
    if target.serial is not None and target.code is not None:
        page = batch_page(base_url, target.code, target.serial)
        levels.append(
            {
                "defaultLink": [Link(href=page, title="Xác thực sản phẩm / Verify this item", type="text/html")],
                "verificationService": [
                    Link(href=page, title="Xác thực sản phẩm / Verify this item", type="text/html"),
                    Link(href=page, title="Verification (JSON)", type="application/json"),
                ],
            }
        )
    if target.code is not None:
        page = batch_page(base_url, target.code)
        batch_links: dict[str, list[Link]] = {
            "defaultLink": [Link(href=page, title="Nguồn gốc lô hàng / Batch origin", type="text/html")],
            "pip": [
                Link(
                    href=page,
                    title="Thông tin sản phẩm của lô / Product information for this batch",
                    type="text/html",
                    context=[BATCH_CONTEXT],
                )
            ],
            "traceability": [
                Link(href=page, title="Hành trình lô hàng / Batch journey", type="text/html"),
                Link(href=page, title="Batch journey (JSON)", type="application/json"),
            ],
            "epcis": [
                Link(
                    href=batch_epcis(base_url, target.code),
                    title="Sự kiện EPCIS của lô hàng / Batch EPCIS events",
                    type=EPCIS_TYPE,
                ),
                Link(
                    href=partner_query(base_url, target),
                    title="Truy vấn EPCIS 2.0 cho đối tác / EPCIS 2.0 query for partners",
                    type=EPCIS_TYPE,
                    context=[PARTNER_CONTEXT],
                ),
            ],
        }
        if target.has_certifications:
            batch_links["certificationInfo"] = [
                Link(href=f"{page}#chung-nhan", title="Chứng nhận / Certifications", type="text/html")
            ]
        levels.append(batch_links)
    if target.gtin14 is not None:
        page = product_page(
            base_url, target.gtin14, unknown_lot=target.unknown_lot, unknown_serial=target.unknown_serial
        )
        title = "Thông tin sản phẩm / Product information"
        levels.append(
            {
                "defaultLink": [Link(href=page, title=title, type="text/html")],
                # a lot's page is product information too: the two pip links differ by context
                "pip": [Link(href=page, title=title, type="text/html", context=[PRODUCT_CONTEXT])],
            }
        )
    return levels


def merged_links(target: Target, base_url: str) -> dict[str, list[Link]]:
    """Walk-up: every level's links, each (href, type) once per link type; the default from the deepest level."""
    merged: dict[str, list[Link]] = {}
    for depth, level in enumerate(links_by_level(target, base_url)):
        for link_type, links in level.items():
            if link_type == "defaultLink" and depth > 0:
                continue
            bucket = merged.setdefault(link_type, [])
            seen = {(link.href, link.type) for link in bucket}
            bucket.extend(link for link in links if (link.href, link.type) not in seen)
    return merged


def item_description(target: Target) -> str:
    parts = [target.product_name]
    if target.lot is not None:
        parts.append(f"lô / lot {target.lot}")
    if target.serial is not None:
        parts.append(f"số / serial {target.serial}")
    return ", ".join(parts)


def linkset(target: Target, anchor: str, base_url: str) -> dict[str, Any]:
    """RFC 9264 JSON linkset, relation types as full GS1 Web Vocabulary URIs, anchored on the uncompressed URI."""
    context: dict[str, Any] = {"anchor": anchor, "itemDescription": item_description(target)}
    for link_type, links in merged_links(target, base_url).items():
        context[GS1_VOC + link_type] = [msgspec.to_builtins(link) for link in links]
    return {"linkset": [context]}


def normalize_link_type(raw: str) -> str | None:
    """'gs1:pip' or 'https://gs1.org/voc/pip' -> 'pip'; other namespaces are not served."""
    for prefix in ("gs1:", GS1_VOC, "http://gs1.org/voc/"):
        if raw.startswith(prefix):
            return raw[len(prefix) :]
    return None


class Ambiguous(Exception):
    """Several links fit the request equally well: the client gets 300 Multiple Choices with the list."""

    def __init__(self, links: list[Link]) -> None:
        super().__init__("several links fit this request")
        self.links = links


def choose_link(links: list[Link], accept: str, accept_language: str, context: str | None = None) -> Link:
    """Pick among links of one type: by ?context=, then Accept (JSON vs HTML); every page speaks both languages.

    Links that stay tied after that are told apart by walk-up: the first one is the most specific level's
    (the request's own item). Only links a client could not tell apart at all (same type, languages and
    context) are ambiguous: `Ambiguous` with them.
    """
    if context is not None:
        links = [link for link in links if link.context is not None and context in link.context] or links
    if "application/json" in accept and "text/html" not in accept:
        preferred = [link for link in links if link.type == "application/json"]
    else:
        preferred = [link for link in links if link.type == "text/html"]
    candidates = preferred or links
    first = candidates[0]
    twins = [
        link
        for link in candidates
        if link.type == first.type and link.hreflang == first.hreflang and link.context == first.context
    ]
    if len(twins) > 1:
        raise Ambiguous(twins)
    return first


def forwarded_query(raw_query: str) -> str:
    """The request's query string less the resolver's own parameters, pairs kept as sent and in order."""
    kept = [
        pair
        for pair in raw_query.split("&")
        if pair and unquote_plus(pair.partition("=")[0]) not in RESOLVER_PARAMETERS
    ]
    return "&".join(kept)


def link_header(anchor: str, *, same_as: str | None = None, with_context: bool = False) -> str:
    """The Link header every resolver answer carries (redirects and errors included)."""
    parts = [f'<{anchor}?linkType=linkset>; rel="linkset"; type="{LINKSET_TYPE}"']
    if same_as is not None:
        parts.append(f'<{same_as}>; rel="owl:sameAs"')
    if with_context:
        parts.append(f'<{LINKSET_CONTEXT}>; rel="{JSONLD_CONTEXT_REL}"; type="application/ld+json"')
    return ", ".join(parts)


def with_query(url: str, query: str) -> str:
    """Pass the request's query string on, unchanged, keeping any fragment last."""
    if not query:
        return url
    base, hash_mark, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{query}"
    return f"{joined}{hash_mark}{fragment}"


def resolver_description(base_url: str) -> dict[str, Any]:
    """/.well-known/gs1resolver, valid against GS1's description-file schema (Resolver 1.2.0).

    Required: resolverRoot (a URI) and supportedPrimaryKeys as numeric AIs ("01", never "gtin"); the
    linkset's JSON-LD context goes in jsonLdContextLocation (Resolver 1.0: it SHOULD be declared).
    """
    return {
        "name": "Thái Nguyên Trace & Tour resolver",
        "resolverRoot": base_url,
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": False,
        "jsonLdContextLocation": LINKSET_CONTEXT,
        # partners with API clients: the EPCIS 2.0 REST binding (capture, events, named queries)
        "epcisQueryInterface": f"{base_url}/epcis/events",
        "epcisCaptureInterface": f"{base_url}/epcis/capture",
        "contact": {"fn": "Sở Khoa học và Công nghệ tỉnh Thái Nguyên", "hasEmail": "mailto:trace@thainguyen.gov.vn"},
    }


async def cached_target(
    pool: AnyPool, caches: "TraceCaches", link: DigitalLink | ShortLink, anchor: str
) -> tuple[Target | None, float | None]:
    """The identifier's target from this worker's cache; the database only on a miss (unknowns are not cached).

    The second item is the time (epoch seconds) of a stale answer given while the database is away, else None.
    """

    async def query(conn: asyncpg.Connection) -> Target | None:
        if isinstance(link, DigitalLink):
            return await resolve_digital_link(conn, link)
        return await resolve_short_link(conn, link)

    async def load() -> Target | None:
        if isinstance(pool, ReadPool):  # a replica's "unknown" is asked again of the primary: it may just lag
            return await pool.read(query, confirm_missing=True)
        async with borrow(pool) as conn:
            return await query(conn)

    target, as_of = await caches.targets.get_or_stale(anchor, load)
    if target is not None and target.batch_id is not None:
        caches.track(target.batch_id, "targets", anchor)
    if target is not None and target.walked_up:
        # no change notification names a lot that does not exist yet: ask again next time
        caches.targets.evict(anchor)
    return target, as_of
