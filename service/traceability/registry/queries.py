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
    "verified_at, standards, created_at, updated_at"
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
CERT_COLUMNS = (
    "id, organization_id, product_id, kind, issuer, number, valid_from, valid_to, stars, decision_number, created_at"
)


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


# --- certifications -------------------------------------------------------------------------------


async def insert_certification(conn: asyncpg.Connection, row: NewCertification) -> CertificationRead:
    return msgspec.convert(dict(await insert_row(conn, "certifications", row, CERT_COLUMNS)), CertificationRead)


async def certifications_of(conn: asyncpg.Connection, org_id: uuid.UUID) -> list[CertificationRead]:
    rows = await conn.fetch(
        f"select {CERT_COLUMNS} from certifications where organization_id = $1 order by valid_from desc, id",  # noqa: S608
        org_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[CertificationRead])


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

_PUBLIC_ORG = """jsonb_build_object(
    'id', {o}.id, 'kind', {o}.kind, 'name', {o}.name, 'province_name', {o}.province_name,
    'commune_code', {o}.commune_code, 'commune_name', {o}.commune_name, 'former_district', {o}.former_district,
    'lat', {o}.lat, 'lon', {o}.lon, 'verified', {o}.verification_status = 'verified', 'standards', {o}.standards)"""


async def public_producer(conn: asyncpg.Connection, org_id: uuid.UUID) -> OrganizationPublic | None:
    row = await conn.fetchval(f"select {_PUBLIC_ORG.format(o='o')} from organizations o where o.id = $1", org_id)  # noqa: S608
    if row is None:
        return None
    return msgspec.convert(row, OrganizationPublic)


async def producers_near(
    conn: asyncpg.Connection, lat: float, lon: float, radius_km: float, lang: str = "vi", limit: int = 10
) -> list[ProducerSummary]:
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
    return msgspec.convert([dict(r) for r in rows], list[ProducerSummary])


def _like_pattern(folded_query: str) -> str:
    escaped = folded_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def products_matching(
    conn: asyncpg.Connection, folded_query: str, lang: str = "vi", limit: int = 20
) -> list[ProductSummary]:
    """Products whose names contain every word of the (accent-folded: communes.fold_for_search) query."""
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
    return msgspec.convert([dict(r) for r in rows], list[ProductSummary])
