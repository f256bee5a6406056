"""SQL for organizations, certifications, products, plots and input logs: one typed function per query."""

import uuid
from datetime import date
from typing import Any

import asyncpg
import msgspec

from service.traceability.schemas import CertificationRead, InputRead, OrganizationRead, PlotRead, ProductRead

# The organizations user $1 manages: their own and, for a cooperative, its member farms (see access.py).
VISIBLE_ORGS = (
    "select o.id from organizations o join users u on u.id = $1 "
    "where o.id = u.organization_id or o.parent_id = u.organization_id"
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


def returned(row: asyncpg.Record | None) -> dict[str, Any]:
    """The row of an INSERT/UPDATE ... RETURNING that cannot come back empty."""
    assert row is not None, "RETURNING gave no row"
    return dict(row)


# --- organizations --------------------------------------------------------------------------------


async def insert_organization(conn: asyncpg.Connection, values: dict[str, Any]) -> OrganizationRead:
    row = await conn.fetchrow(
        f"""
        insert into organizations (kind, name, parent_id, description, province_code, province_name, commune_code,
            commune_name, former_district, address_line, lat, lon, contact_phone, contact_email, standards,
            created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        returning {ORG_COLUMNS}
        """,  # noqa: S608 - constant column list
        values["kind"],
        values["name"],
        values["parent_id"],
        values["description"],
        values["province_code"],
        values["province_name"],
        values["commune_code"],
        values["commune_name"],
        values["former_district"],
        values["address_line"],
        values["lat"],
        values["lon"],
        values["contact_phone"],
        values["contact_email"],
        values["standards"],
        values["created_by"],
    )
    return msgspec.convert(returned(row), OrganizationRead)


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
        where $2 or o.id = (select organization_id from users where id = $1)
                 or o.parent_id = (select organization_id from users where id = $1)
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
    conn: asyncpg.Connection, org_id: uuid.UUID, changes: dict[str, Any]
) -> OrganizationRead | None:
    allowed = (
        "name",
        "commune_code",
        "commune_name",
        "province_code",
        "province_name",
        "former_district",
        "address_line",
        "lat",
        "lon",
        "contact_phone",
        "contact_email",
        "description",
        "standards",
        "verification_status",
        "verified_by",
        "verified_at",
    )
    columns = [c for c in allowed if c in changes]
    # column names come from the constant list above, values travel as parameters
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    row = await conn.fetchrow(
        f"update organizations set {assignments}{', ' if columns else ''}updated_at = now() "  # noqa: S608
        f"where id = $1 returning {ORG_COLUMNS}",
        org_id,
        *[changes[c] for c in columns],
    )
    return None if row is None else msgspec.convert(dict(row), OrganizationRead)


# --- certifications -------------------------------------------------------------------------------


async def insert_certification(conn: asyncpg.Connection, values: dict[str, Any]) -> CertificationRead:
    row = await conn.fetchrow(
        f"""
        insert into certifications (organization_id, product_id, kind, issuer, number, valid_from, valid_to, stars,
            decision_number, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        returning {CERT_COLUMNS}
        """,  # noqa: S608 - constant column list
        values["organization_id"],
        values["product_id"],
        values["kind"],
        values["issuer"],
        values["number"],
        values["valid_from"],
        values["valid_to"],
        values["stars"],
        values["decision_number"],
        values["created_by"],
    )
    return msgspec.convert(returned(row), CertificationRead)


async def certifications_of(conn: asyncpg.Connection, org_id: uuid.UUID) -> list[CertificationRead]:
    rows = await conn.fetch(
        f"select {CERT_COLUMNS} from certifications where organization_id = $1 order by valid_from desc, id",  # noqa: S608
        org_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[CertificationRead])


# --- products -------------------------------------------------------------------------------------


async def insert_product(conn: asyncpg.Connection, values: dict[str, Any]) -> ProductRead:
    row = await conn.fetchrow(
        f"""
        insert into products (organization_id, gtin14, names, descriptions, category, ocop_stars,
            geographic_indication, photos, shelf_life_days, search_text)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        returning {PRODUCT_COLUMNS}
        """,  # noqa: S608 - constant column list
        values["organization_id"],
        values["gtin14"],
        values["names"],
        values["descriptions"],
        values["category"],
        values["ocop_stars"],
        values["geographic_indication"],
        values["photos"],
        values["shelf_life_days"],
        values["search_text"],
    )
    return msgspec.convert(returned(row), ProductRead)


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


async def update_product(conn: asyncpg.Connection, product_id: uuid.UUID, changes: dict[str, Any]) -> ProductRead:
    allowed = (
        "names",
        "descriptions",
        "category",
        "gtin14",
        "ocop_stars",
        "geographic_indication",
        "photos",
        "shelf_life_days",
        "search_text",
    )
    columns = [c for c in allowed if c in changes]
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    row = await conn.fetchrow(
        f"update products set {assignments}{', ' if columns else ''}updated_at = now() "  # noqa: S608
        f"where id = $1 returning {PRODUCT_COLUMNS}",
        product_id,
        *[changes[c] for c in columns],
    )
    return msgspec.convert(returned(row), ProductRead)


# --- plots and inputs -----------------------------------------------------------------------------


async def insert_plot(conn: asyncpg.Connection, values: dict[str, Any]) -> PlotRead:
    row = await conn.fetchrow(
        f"""
        insert into plots (organization_id, name, commune_code, commune_name, geometry, lat, lon, area_m2, crops)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        returning {PLOT_COLUMNS}
        """,  # noqa: S608 - constant column list
        values["organization_id"],
        values["name"],
        values["commune_code"],
        values["commune_name"],
        values["geometry"],
        values["lat"],
        values["lon"],
        values["area_m2"],
        values["crops"],
    )
    return msgspec.convert(returned(row), PlotRead)


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


async def insert_input(conn: asyncpg.Connection, values: dict[str, Any]) -> InputRead:
    row = await conn.fetchrow(
        f"""
        insert into plot_inputs (plot_id, organization_id, applied_on, product_name, active_ingredient, dose,
            phi_days, notes, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        returning {INPUT_COLUMNS}
        """,  # noqa: S608 - constant column list
        values["plot_id"],
        values["organization_id"],
        values["applied_on"],
        values["product_name"],
        values["active_ingredient"],
        values["dose"],
        values["phi_days"],
        values["notes"],
        values["created_by"],
    )
    return msgspec.convert(returned(row), InputRead)


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
