"""SQL for organizations, certifications, products, plots and input logs: one typed function per query."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
from msgspec import UNSET, UnsetType

from service.core.db import insert_row, update_row
from service.traceability.access import VISIBLE_ORGS
from service.traceability.registry.schemas import (
    CertificationRead,
    InputRead,
    OrganizationPublic,
    OrganizationRead,
    PlotRead,
    ProducerSummary,
    ProductRead,
    ProductSummary,
)

ORG_COLUMNS = (
    "id, kind, name, parent_id, description, province_code, province_name, commune_code, commune_name, "
    "former_district, address_line, lat, lon, contact_phone, contact_email, verification_status, verified_by, "
    "verified_at, standards, photos, created_at, updated_at"
)
PRODUCT_COLUMNS = (
    "id, organization_id, gtin14, names, descriptions, category, ocop_stars, geographic_indication, photos, "
    "shelf_life_days, created_at, updated_at"
)
PLOT_COLUMNS = (
    "id, organization_id, name, commune_code, commune_name, geometry, lat, lon, area_m2, crops, created_at, updated_at"
)
INPUT_COLUMNS = (
    "id, plot_id, organization_id, applied_on, product_name, active_ingredient, dose, phi_days, notes, created_at"
)
# Today in Vietnam, for validity checks in SQL.
VN_TODAY = "(now() at time zone 'Asia/Ho_Chi_Minh')::date"
# The latest review decision of certificate {c} (reviews are appended; the newest decides).
LATEST_DECISION = (
    "(select r.decision from certification_reviews r where r.certification_id = {c}.id "
    "order by r.created_at desc, r.id desc limit 1)"
)
# OCOP stars of product {p} as a public claim: only from a verified, unexpired OCOP certificate of that product
# (OCOP rates products, not producers), never from the product's free-input field.
VERIFIED_OCOP_STARS = (
    "(select max(oc.stars) from certifications oc "  # noqa: S608 - constant SQL fragment
    "where oc.kind = 'ocop' and oc.product_id = {p}.id "
    f"and oc.valid_from <= {VN_TODAY} and (oc.valid_to is null or oc.valid_to >= {VN_TODAY}) "
    f"and {LATEST_DECISION.format(c='oc')} = 'verified')"
)
# Public coordinates: a household farm is somebody's home, so about 1 km (2 decimals) is all anyone sees.
PUBLIC_LAT = "case when {o}.kind = 'household' then round({o}.lat::numeric, 2)::float8 else {o}.lat end"
PUBLIC_LON = "case when {o}.kind = 'household' then round({o}.lon::numeric, 2)::float8 else {o}.lon end"

# A certificate with its latest review (reviews are appended, never edited: the newest decides).
CERT_WITH_REVIEW = """
    select c.id, c.organization_id, c.product_id, c.kind, c.issuer, c.number, c.valid_from, c.valid_to, c.stars,
           c.decision_number, c.document_media_id, c.created_at,
           coalesce(r.decision, 'declared') as status,
           coalesce(c.valid_to < (now() at time zone 'Asia/Ho_Chi_Minh')::date, false) as expired,
           a.name as reviewed_by_authority, r.created_at as reviewed_at, r.reason as review_reason
    from certifications c
    left join lateral (
        select decision, reason, authority_id, created_at from certification_reviews
        where certification_id = c.id order by created_at desc, id desc limit 1
    ) r on true
    left join authorities a on a.id = r.authority_id
"""


# --- rows written: one Struct per table, so a wrong column name is a type error -------------------


class NewOrganization(msgspec.Struct, kw_only=True):
    kind: str
    name: str
    parent_id: uuid.UUID | None
    description: dict[str, str]
    province_code: int
    province_name: str
    commune_code: str
    commune_name: str
    former_district: str | None
    address_line: str | None
    lat: float | None
    lon: float | None
    contact_phone: str | None
    contact_email: str | None
    standards: list[str]
    created_by: uuid.UUID


class OrganizationChanges(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Columns an update may set; UNSET ones keep their value."""

    name: str | UnsetType = UNSET
    commune_code: str | UnsetType = UNSET
    commune_name: str | UnsetType = UNSET
    province_code: int | UnsetType = UNSET
    province_name: str | UnsetType = UNSET
    former_district: str | UnsetType | None = UNSET
    address_line: str | UnsetType | None = UNSET
    lat: float | UnsetType | None = UNSET
    lon: float | UnsetType | None = UNSET
    contact_phone: str | UnsetType | None = UNSET
    contact_email: str | UnsetType | None = UNSET
    description: dict[str, str] | UnsetType = UNSET
    standards: list[str] | UnsetType = UNSET
    photos: list[uuid.UUID] | UnsetType = UNSET
    verification_status: str | UnsetType = UNSET
    verified_by: uuid.UUID | UnsetType | None = UNSET
    verified_at: datetime | UnsetType | None = UNSET


class NewCertification(msgspec.Struct, kw_only=True):
    organization_id: uuid.UUID
    product_id: uuid.UUID | None
    kind: str
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    stars: int | None
    decision_number: str | None
    document_media_id: uuid.UUID | None
    created_by: uuid.UUID


class NewProduct(msgspec.Struct, kw_only=True):
    organization_id: uuid.UUID
    gtin14: str | None
    names: dict[str, str]
    descriptions: dict[str, str]
    category: str
    ocop_stars: int | None
    geographic_indication: str | None
    photos: list[uuid.UUID]
    shelf_life_days: int | None
    search_text: str


class ProductChanges(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Columns an update may set; UNSET ones keep their value."""

    names: dict[str, str] | UnsetType = UNSET
    descriptions: dict[str, str] | UnsetType = UNSET
    category: str | UnsetType = UNSET
    gtin14: str | UnsetType | None = UNSET
    ocop_stars: int | UnsetType | None = UNSET
    geographic_indication: str | UnsetType | None = UNSET
    photos: list[uuid.UUID] | UnsetType = UNSET
    shelf_life_days: int | UnsetType | None = UNSET
    search_text: str | UnsetType = UNSET


class NewPlot(msgspec.Struct, kw_only=True):
    organization_id: uuid.UUID
    name: str
    commune_code: str
    commune_name: str
    geometry: dict[str, Any]
    lat: float
    lon: float
    area_m2: Decimal | None
    crops: list[str]


class NewInput(msgspec.Struct, kw_only=True):
    plot_id: uuid.UUID
    organization_id: uuid.UUID
    applied_on: date
    product_name: str
    active_ingredient: str | None
    dose: str | None
    phi_days: int
    notes: str | None
    created_by: uuid.UUID


# --- organizations --------------------------------------------------------------------------------


async def insert_organization(conn: asyncpg.Connection, row: NewOrganization) -> OrganizationRead:
    return msgspec.convert(dict(await insert_row(conn, "organizations", row, ORG_COLUMNS)), OrganizationRead)


async def lock_caller_organization(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    """The caller's organization, with their users row locked until the transaction ends: two parallel
    creations by one user take turns, and the second sees the first one's link."""
    value: uuid.UUID | None = await conn.fetchval("select organization_id from users where id = $1 for update", user_id)
    return value


async def set_user_organization(conn: asyncpg.Connection, user_id: uuid.UUID, org_id: uuid.UUID) -> bool:
    """Link a user without an organization; False when they already have one."""
    status = await conn.execute(
        "update users set organization_id = $2, updated_at = now() where id = $1 and organization_id is null",
        user_id,
        org_id,
    )
    return bool(status == "UPDATE 1")


async def user_id_by_phone(conn: asyncpg.Connection, phone: str) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    row = await conn.fetchrow("select id, organization_id from users where phone = $1 and is_active", phone)
    return None if row is None else (row["id"], row["organization_id"])


async def organization(conn: asyncpg.Connection, org_id: uuid.UUID) -> OrganizationRead | None:
    row = await conn.fetchrow(f"select {ORG_COLUMNS} from organizations where id = $1", org_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), OrganizationRead)


async def organizations_of(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, all_orgs: bool, limit: int, offset: int
) -> list[OrganizationRead]:
    rows = await conn.fetch(
        f"""
        select {ORG_COLUMNS} from organizations o
        where $2 or o.id in ({VISIBLE_ORGS})
        order by o.name, o.id
        limit $3 offset $4
        """,  # noqa: S608 - constant column list
        user_id,
        all_orgs,
        limit,
        offset,
    )
    return msgspec.convert([dict(r) for r in rows], list[OrganizationRead])


async def update_organization(
    conn: asyncpg.Connection, org_id: uuid.UUID, changes: OrganizationChanges
) -> OrganizationRead | None:
    row = await update_row(conn, "organizations", org_id, changes, ORG_COLUMNS)
    return None if row is None else msgspec.convert(dict(row), OrganizationRead)


async def insert_organization_review(
    conn: asyncpg.Connection, org_id: uuid.UUID, decision: str, authority_id: uuid.UUID, reviewer_id: uuid.UUID
) -> None:
    await conn.execute(
        "insert into organization_reviews (organization_id, decision, authority_id, reviewer_id) "
        "values ($1, $2, $3, $4)",
        org_id,
        decision,
        authority_id,
        reviewer_id,
    )


# --- certifications -------------------------------------------------------------------------------


async def insert_certification(conn: asyncpg.Connection, row: NewCertification) -> uuid.UUID:
    created = await insert_row(conn, "certifications", row, "id")
    cert_id: uuid.UUID = created["id"]
    return cert_id


async def certification(conn: asyncpg.Connection, cert_id: uuid.UUID) -> CertificationRead | None:
    row = await conn.fetchrow(f"{CERT_WITH_REVIEW} where c.id = $1", cert_id)
    return None if row is None else msgspec.convert(dict(row), CertificationRead)


async def certifications_of(conn: asyncpg.Connection, org_id: uuid.UUID) -> list[CertificationRead]:
    rows = await conn.fetch(
        f"{CERT_WITH_REVIEW} where c.organization_id = $1 order by c.valid_from desc, c.id",
        org_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[CertificationRead])


async def certificate_document(conn: asyncpg.Connection, media_id: uuid.UUID) -> tuple[uuid.UUID, str, str] | None:
    """(owner, purpose, status) of a media item offered as a certificate's document."""
    row = await conn.fetchrow("select owner_id, purpose, status from media where id = $1", media_id)
    return None if row is None else (row["owner_id"], row["purpose"], row["status"])


# --- products -------------------------------------------------------------------------------------


async def insert_product(conn: asyncpg.Connection, row: NewProduct) -> ProductRead:
    return msgspec.convert(dict(await insert_row(conn, "products", row, PRODUCT_COLUMNS)), ProductRead)


async def product(conn: asyncpg.Connection, product_id: uuid.UUID) -> ProductRead | None:
    row = await conn.fetchrow(f"select {PRODUCT_COLUMNS} from products where id = $1", product_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), ProductRead)


async def products_of(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, all_orgs: bool, limit: int, offset: int
) -> list[ProductRead]:
    rows = await conn.fetch(
        f"""
        select {PRODUCT_COLUMNS} from products p
        where $2 or p.organization_id in (
            {VISIBLE_ORGS})
        order by p.created_at desc, p.id
        limit $3 offset $4
        """,  # noqa: S608 - constant column list
        user_id,
        all_orgs,
        limit,
        offset,
    )
    return msgspec.convert([dict(r) for r in rows], list[ProductRead])


async def update_product(conn: asyncpg.Connection, product_id: uuid.UUID, changes: ProductChanges) -> ProductRead:
    row = await update_row(conn, "products", product_id, changes, PRODUCT_COLUMNS)
    assert row is not None, "the product was read in the same transaction"
    return msgspec.convert(dict(row), ProductRead)


# --- plots and inputs -----------------------------------------------------------------------------


async def insert_plot(conn: asyncpg.Connection, row: NewPlot) -> PlotRead:
    return msgspec.convert(dict(await insert_row(conn, "plots", row, PLOT_COLUMNS)), PlotRead)


async def plot(conn: asyncpg.Connection, plot_id: uuid.UUID) -> PlotRead | None:
    row = await conn.fetchrow(f"select {PLOT_COLUMNS} from plots where id = $1", plot_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), PlotRead)


async def plots_of(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, all_orgs: bool, limit: int, offset: int
) -> list[PlotRead]:
    rows = await conn.fetch(
        f"""
        select {PLOT_COLUMNS} from plots p
        where $2 or p.organization_id in (
            {VISIBLE_ORGS})
        order by p.name, p.id
        limit $3 offset $4
        """,  # noqa: S608 - constant column list
        user_id,
        all_orgs,
        limit,
        offset,
    )
    return msgspec.convert([dict(r) for r in rows], list[PlotRead])


async def insert_input(conn: asyncpg.Connection, row: NewInput) -> InputRead:
    return msgspec.convert(dict(await insert_row(conn, "plot_inputs", row, INPUT_COLUMNS)), InputRead)


async def inputs_of(conn: asyncpg.Connection, plot_id: uuid.UUID) -> list[InputRead]:
    rows = await conn.fetch(
        f"select {INPUT_COLUMNS} from plot_inputs where plot_id = $1 order by applied_on desc, id",  # noqa: S608
        plot_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[InputRead])


async def flag_phi_violations(conn: asyncpg.Connection, plot_id: uuid.UUID, applied_on: date, phi_days: int) -> int:
    """Batches harvested from the plot inside the pre-harvest interval of a (late-logged) application."""
    status = await conn.execute(
        """
        update batches set phi_violation = true, updated_at = now()
        where plot_id = $1 and not phi_violation and harvest_date is not null
          and harvest_date >= $2 and harvest_date < $2 + $3::integer
        """,
        plot_id,
        applied_on,
        phi_days,
    )
    return int(status.split()[-1])


# --- public reads (no contact details, no people, no private notes) -------------------------------

_PUBLIC_ORG = f"""jsonb_build_object(
    'id', o.id, 'kind', o.kind, 'name', o.name, 'province_name', o.province_name,
    'commune_code', o.commune_code, 'commune_name', o.commune_name, 'former_district', o.former_district,
    'lat', {PUBLIC_LAT.format(o="o")}, 'lon', {PUBLIC_LON.format(o="o")},
    'verified', o.verification_status = 'verified', 'standards', o.standards)"""


async def public_producer(conn: asyncpg.Connection, org_id: uuid.UUID) -> OrganizationPublic | None:
    row = await conn.fetchval(f"select {_PUBLIC_ORG} from organizations o where o.id = $1", org_id)  # noqa: S608
    if row is None:
        return None
    return msgspec.convert(row, OrganizationPublic)


async def producers_near(
    conn: asyncpg.Connection, lat: float, lon: float, radius_km: float, lang: str = "vi", limit: int = 10
) -> list[ProducerSummary]:
    """Producers with a location within radius_km, nearest first, with their product names. One round trip."""
    rows = await conn.fetch(
        f"""
        select * from (
            select o.id, o.name, o.kind, o.commune_name, o.lat, o.lon,
                   o.verification_status = 'verified' as verified,
                   6371.0088 * 2 * asin(sqrt(
                       power(sin(radians(o.lat - $1) / 2), 2)
                       + cos(radians($1)) * cos(radians(o.lat)) * power(sin(radians(o.lon - $2) / 2), 2)
                   )) as distance_km,
                   (select max({VERIFIED_OCOP_STARS.format(p="p")}) from products p
                    where p.organization_id = o.id) as max_ocop_stars,
                   coalesce((select array_agg(coalesce(p.names ->> $4, p.names ->> 'vi') order by p.created_at)
                             from products p where p.organization_id = o.id), '{{}}') as products
            from (select id, name, kind, commune_name, verification_status,
                         {PUBLIC_LAT.format(o="org")} as lat, {PUBLIC_LON.format(o="org")} as lon
                  from organizations org
                  where org.lat is not null
                    and org.lat between $1 - $3 / 111.0 - 0.01 and $1 + $3 / 111.0 + 0.01
                    and org.lon between $2 - $3 / (111.0 * greatest(cos(radians($1)), 0.01)) - 0.01
                                    and $2 + $3 / (111.0 * greatest(cos(radians($1)), 0.01)) + 0.01) o
        ) near
        where distance_km <= $3
        order by distance_km, id
        limit $5
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        lat,
        lon,
        radius_km,
        lang,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[ProducerSummary])


def _like_pattern(folded_query: str) -> str:
    escaped = folded_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def products_matching(
    conn: asyncpg.Connection, folded_query: str, lang: str = "vi", limit: int = 20
) -> list[ProductSummary]:
    """Products whose names contain every word of the (accent-folded: communes.fold_for_search) query."""
    rows = await conn.fetch(
        f"""
        select * from (
            select p.id, coalesce(p.names ->> $2, p.names ->> 'vi') as name, p.category, p.gtin14,
                   {VERIFIED_OCOP_STARS.format(p="p")} as ocop_stars,
                   o.id as producer_id, o.name as producer_name, o.commune_name,
                   {PUBLIC_LAT.format(o="o")} as lat, {PUBLIC_LON.format(o="o")} as lon
            from products p join organizations o on o.id = p.organization_id
            where p.search_text like all($1::text[])
        ) hits
        order by ocop_stars desc nulls last, id
        limit $3
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        [_like_pattern(word) for word in folded_query.split()] or ["%"],
        lang,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[ProductSummary])
