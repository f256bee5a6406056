"""Rules for organizations, certifications, products, plots and input logs (one transaction per write)."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.auth.service import normalize_phone
from service.core import clock
from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.traceability import access
from service.traceability.registry import communes as places
from service.traceability.registry import queries as q
from service.traceability.registry.checks import (
    check_commune,
    check_geometry,
    check_gtin,
    check_lang_text,
    check_point,
    check_quantity,
)
from service.traceability.registry.schemas import (
    CertificationCreate,
    CertificationRead,
    InputCreate,
    InputRead,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    PlotCreate,
    PlotRead,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    VerificationUpdate,
)

# --- organizations --------------------------------------------------------------------------------


async def create_organization(
    conn: asyncpg.Connection, user: CurrentUser, data: OrganizationCreate
) -> OrganizationRead:
    """A farmer registers their household; a cooperative registers itself, then its member farms."""
    place = check_commune(data.commune_code)
    if (data.lat is None) != (data.lon is None):
        raise InvalidInput("give both lat and lon, or neither", code="incomplete_coordinates")
    if data.lat is not None and data.lon is not None:
        check_point(data.lat, data.lon)
    if data.kind == "cooperative" and user.role not in ("cooperative", "admin"):
        raise Forbidden("only cooperative accounts register cooperatives", code="kind_not_allowed")
    phone = normalize_phone(data.contact_phone) if data.contact_phone else None
    values = q.NewOrganization(
        kind=data.kind,
        name=data.name.strip(),
        parent_id=data.parent_id,
        description=check_lang_text("description", data.description, require_vi=False),
        province_code=place.province_code,
        province_name=place.province_name,
        commune_code=place.code,
        commune_name=place.name,
        former_district=data.former_district,
        address_line=data.address_line,
        lat=data.lat,
        lon=data.lon,
        contact_phone=phone,
        contact_email=data.contact_email,
        standards=data.standards,
        created_by=user.id,
    )
    async with conn.transaction():
        own = await q.lock_caller_organization(conn, user.id)
        if data.parent_id is not None:
            parent = await q.organization(conn, data.parent_id)
            allowed = user.role == "admin" or (own is not None and own == data.parent_id)
            if parent is None or not allowed:
                raise NotFound("no cooperative with this id", code="organization_not_found")
            if parent.kind != "cooperative":
                raise InvalidInput("member farms belong to a cooperative", code="parent_not_cooperative")
            return await q.insert_organization(conn, values)
        if user.role == "admin":
            return await q.insert_organization(conn, values)
        if own is not None:
            raise Conflict("this account already belongs to an organization", code="already_member")
        org = await q.insert_organization(conn, values)
        if not await q.set_user_organization(conn, user.id, org.id):  # the row lock makes this unreachable
            raise Conflict("this account already belongs to an organization", code="already_member")
        return org


async def get_organization(conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID) -> OrganizationRead:
    await access.require_readable(conn, user, org_id, "organization")
    org = await q.organization(conn, org_id)
    if org is None:
        raise NotFound("no organization with this id", code="organization_not_found")
    return org


async def update_organization(
    conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID, data: OrganizationUpdate
) -> OrganizationRead:
    changes = q.OrganizationChanges(
        name=data.name.strip() if isinstance(data.name, str) else data.name,
        former_district=data.former_district,
        address_line=data.address_line,
        lat=data.lat,
        lon=data.lon,
        contact_phone=normalize_phone(data.contact_phone)
        if isinstance(data.contact_phone, str)
        else data.contact_phone,
        contact_email=data.contact_email,
        description=(
            check_lang_text("description", data.description, require_vi=False)
            if isinstance(data.description, dict)
            else data.description
        ),
        standards=data.standards,
        photos=data.photos,
    )
    if isinstance(data.commune_code, str):
        place = check_commune(data.commune_code)
        changes = msgspec.structs.replace(
            changes,
            commune_code=place.code,
            commune_name=place.name,
            province_code=place.province_code,
            province_name=place.province_name,
        )
    async with conn.transaction():
        await access.require_manageable(conn, user, org_id, "organization")
        current = await q.organization(conn, org_id)
        assert current is not None
        lat = current.lat if changes.lat is msgspec.UNSET else changes.lat
        lon = current.lon if changes.lon is msgspec.UNSET else changes.lon
        if (lat is None) != (lon is None):
            raise InvalidInput("give both lat and lon, or neither", code="incomplete_coordinates")
        if lat is not None and lon is not None:
            check_point(lat, lon)
        updated = await q.update_organization(conn, org_id, changes)
        assert updated is not None
        return updated


async def set_verification(
    conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID, data: VerificationUpdate
) -> OrganizationRead:
    """An inspector records a producer's verification for their authority; the decision is appended to a trail."""
    changes = q.OrganizationChanges(
        verification_status=data.status,
        verified_by=user.id if data.status != "unverified" else None,
        verified_at=datetime.now(UTC) if data.status != "unverified" else None,
    )
    async with conn.transaction():
        authority = await access.acting_authority(conn, user)
        updated = await q.update_organization(conn, org_id, changes)
        if updated is None:
            raise NotFound("no organization with this id", code="organization_not_found")
        await q.insert_organization_review(conn, org_id, data.status, authority.id, user.id)
        return updated


async def add_member(conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID, phone: str) -> OrganizationRead:
    """A cooperative (or admin) links an existing account to one of the farms it manages."""
    normalized = normalize_phone(phone)
    async with conn.transaction():
        await access.require_manageable(conn, user, org_id, "organization")
        found = await q.user_id_by_phone(conn, normalized)
        if found is None:
            raise NotFound("no account with this phone number", code="user_not_found")
        if not await q.set_user_organization(conn, found[0], org_id):
            raise Conflict("this account already belongs to an organization", code="already_member")
        org = await q.organization(conn, org_id)
        assert org is not None
        return org


async def add_certification(
    conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID, data: CertificationCreate
) -> CertificationRead:
    """A producer submits a certificate: shown as declared, awaiting verification, until an inspector decides."""
    if data.kind == "ocop" and data.stars is None:
        raise InvalidInput("an OCOP certificate has 1 to 5 stars", code="ocop_stars_required")
    if data.kind != "ocop" and data.stars is not None:
        raise InvalidInput("only OCOP certificates have stars", code="stars_not_allowed")
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise InvalidInput("valid_to is before valid_from", code="invalid_validity")
    async with conn.transaction():
        await access.require_manageable(conn, user, org_id, "organization")
        if data.product_id is not None:
            prod = await q.product(conn, data.product_id)
            if prod is None or prod.organization_id != org_id:
                raise NotFound("no product with this id in this organization", code="product_not_found")
        if data.document_media_id is not None:
            document = await q.certificate_document(conn, data.document_media_id)
            if document is None or (document[0] != user.id and user.role != "admin"):
                raise NotFound("no media with this id among your uploads", code="media_not_found")
            if document[1] != "certificate":
                raise InvalidInput("upload the document with purpose 'certificate'", code="wrong_media_purpose")
            if document[2] != "ready":
                raise Conflict("complete the document's upload first", code="media_not_ready")
        row = q.NewCertification(
            organization_id=org_id,
            product_id=data.product_id,
            kind=data.kind,
            issuer=data.issuer.strip(),
            number=data.number.strip(),
            valid_from=data.valid_from,
            valid_to=data.valid_to,
            stars=data.stars,
            decision_number=data.decision_number,
            document_media_id=data.document_media_id,
            created_by=user.id,
        )
        created = await q.certification(conn, await q.insert_certification(conn, row))
        assert created is not None, "inserted in this transaction"
        return created


async def list_certifications(
    conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID
) -> list[CertificationRead]:
    await access.require_readable(conn, user, org_id, "organization")
    return await q.certifications_of(conn, org_id)


# --- products -------------------------------------------------------------------------------------


def search_text(names: dict[str, str]) -> str:
    return " ".join(places.fold_for_search(v) for v in names.values())


async def target_organization(conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID | None) -> uuid.UUID:
    """The organization a new record belongs to: the one asked for (if managed) or the caller's own."""
    if org_id is None:
        own = await access.caller_organization(conn, user.id)
        if own is None:
            raise Conflict(
                "register your farm or cooperative first (POST /api/v1/organizations)", code="no_organization"
            )
        return own
    await access.require_manageable(conn, user, org_id, "organization")
    return org_id


async def create_product(conn: asyncpg.Connection, user: CurrentUser, data: ProductCreate) -> ProductRead:
    names = check_lang_text("names", data.names, require_vi=True)
    for text in names.values():
        if len(text) > 200:
            raise InvalidInput("product names have at most 200 characters", code="text_too_long")
    gtin14 = check_gtin(data.gtin)
    descriptions = check_lang_text("descriptions", data.descriptions, require_vi=False)
    async with conn.transaction():
        row = q.NewProduct(
            organization_id=await target_organization(conn, user, data.organization_id),
            gtin14=gtin14,
            names=names,
            descriptions=descriptions,
            category=data.category,
            ocop_stars=data.ocop_stars,
            geographic_indication=data.geographic_indication,
            photos=data.photos,
            shelf_life_days=data.shelf_life_days,
            search_text=search_text(names),
        )
        try:
            return await q.insert_product(conn, row)
        except asyncpg.UniqueViolationError as exc:
            raise Conflict("another product already has this GTIN", code="gtin_taken") from exc


async def readable_product(conn: asyncpg.Connection, user: CurrentUser, product_id: uuid.UUID) -> ProductRead:
    prod = await q.product(conn, product_id)
    if prod is None:
        raise NotFound("no product with this id", code="product_not_found")
    await access.require_readable(conn, user, prod.organization_id, "product")
    return prod


async def update_product(
    conn: asyncpg.Connection, user: CurrentUser, product_id: uuid.UUID, data: ProductUpdate
) -> ProductRead:
    changes = q.ProductChanges(
        descriptions=(
            check_lang_text("descriptions", data.descriptions, require_vi=False)
            if isinstance(data.descriptions, dict)
            else data.descriptions
        ),
        category=data.category,
        gtin14=data.gtin if data.gtin is msgspec.UNSET else check_gtin(data.gtin),
        ocop_stars=data.ocop_stars,
        geographic_indication=data.geographic_indication,
        photos=data.photos,
        shelf_life_days=data.shelf_life_days,
    )
    if isinstance(data.names, dict):
        names = check_lang_text("names", data.names, require_vi=True)
        changes = msgspec.structs.replace(changes, names=names, search_text=search_text(names))
    async with conn.transaction():
        prod = await q.product(conn, product_id)
        if prod is None:
            raise NotFound("no product with this id", code="product_not_found")
        await access.require_manageable(conn, user, prod.organization_id, "product")
        try:
            return await q.update_product(conn, product_id, changes)
        except asyncpg.UniqueViolationError as exc:
            raise Conflict("another product already has this GTIN", code="gtin_taken") from exc


# --- plots and inputs -----------------------------------------------------------------------------


async def create_plot(conn: asyncpg.Connection, user: CurrentUser, data: PlotCreate) -> PlotRead:
    place = check_commune(data.commune_code)
    lat, lon = check_geometry(data.geometry)
    if data.area_m2 is not None:
        check_quantity(data.area_m2, "area_m2", Decimal("1e9"))
    async with conn.transaction():
        row = q.NewPlot(
            organization_id=await target_organization(conn, user, data.organization_id),
            name=data.name.strip(),
            commune_code=place.code,
            commune_name=place.name,
            geometry=data.geometry,
            lat=lat,
            lon=lon,
            area_m2=data.area_m2,
            crops=data.crops,
        )
        return await q.insert_plot(conn, row)


async def readable_plot(conn: asyncpg.Connection, user: CurrentUser, plot_id: uuid.UUID) -> PlotRead:
    found = await q.plot(conn, plot_id)
    if found is None:
        raise NotFound("no plot with this id", code="plot_not_found")
    await access.require_readable(conn, user, found.organization_id, "plot")
    return found


async def create_input(conn: asyncpg.Connection, user: CurrentUser, plot_id: uuid.UUID, data: InputCreate) -> InputRead:
    """Log an application; batches already harvested inside its PHI get flagged in the same transaction."""
    if data.applied_on > clock.today():
        raise InvalidInput("applied_on is in the future", code="date_in_future")
    async with conn.transaction():
        found = await q.plot(conn, plot_id)
        if found is None:
            raise NotFound("no plot with this id", code="plot_not_found")
        await access.require_manageable(conn, user, found.organization_id, "plot")
        row = q.NewInput(
            plot_id=plot_id,
            organization_id=found.organization_id,
            applied_on=data.applied_on,
            product_name=data.product_name,
            active_ingredient=data.active_ingredient,
            dose=data.dose,
            phi_days=data.phi_days,
            notes=data.notes,
            created_by=user.id,
        )
        created = await q.insert_input(conn, row)
        if data.phi_days > 0:
            await q.flag_phi_violations(conn, plot_id, data.applied_on, data.phi_days)
        return created


async def list_organizations(
    conn: asyncpg.Connection, user: CurrentUser, *, limit: int, offset: int
) -> list[OrganizationRead]:
    """The organizations the caller may see (all of them for inspectors and admins)."""
    return await q.organizations_of(conn, user.id, all_orgs=access.is_reader_of_all(user), limit=limit, offset=offset)


async def list_products(conn: asyncpg.Connection, user: CurrentUser, *, limit: int, offset: int) -> list[ProductRead]:
    """The products of the organizations the caller may see."""
    return await q.products_of(conn, user.id, all_orgs=access.is_reader_of_all(user), limit=limit, offset=offset)


async def list_plots(conn: asyncpg.Connection, user: CurrentUser, *, limit: int, offset: int) -> list[PlotRead]:
    """The plots of the organizations the caller may see."""
    return await q.plots_of(conn, user.id, all_orgs=access.is_reader_of_all(user), limit=limit, offset=offset)


async def list_inputs(conn: asyncpg.Connection, user: CurrentUser, plot_id: uuid.UUID) -> list[InputRead]:
    """A plot's input log, newest first, for those who may read the plot."""
    await readable_plot(conn, user, plot_id)
    return await q.inputs_of(conn, plot_id)
