"""Rules for organizations, certifications, products, plots and input logs (one transaction per write)."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.auth.service import normalize_phone
from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.traceability import access, places
from service.traceability import queries as q
from service.traceability.chain import VN_TZ
from service.traceability.gs1 import GS1Error, normalize_gtin
from service.traceability.schemas import (
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

MAX_LANG_TEXT = 5000


def today_vn() -> date:
    return datetime.now(VN_TZ).date()


def check_commune(code: str) -> places.Commune:
    found = places.commune(code)
    if found is None:
        raise InvalidInput(
            f"'{code}' is not a commune or ward of Thái Nguyên in the official 2025 list", code="unknown_commune"
        )
    return found


def check_point(lat: float, lon: float) -> None:
    if not places.inside_thai_nguyen(lat, lon):
        if places.inside_thai_nguyen(lon, lat):
            raise InvalidInput("latitude and longitude look swapped", code="coordinates_swapped")
        raise InvalidInput("this point is outside Thái Nguyên province", code="outside_province")


def check_lang_text(field: str, value: dict[str, str], *, require_vi: bool) -> dict[str, str]:
    cleaned = {lang.strip(): text.strip() for lang, text in value.items()}
    if require_vi and not cleaned.get("vi"):
        raise InvalidInput(f"{field} needs a Vietnamese text under 'vi'", code="vietnamese_required")
    for lang, text in cleaned.items():
        if not (2 <= len(lang) <= 12) or not all(ch.isalnum() or ch == "-" for ch in lang):
            raise InvalidInput(f"{field}: '{lang[:20]}' is not a language tag", code="invalid_language")
        if len(text) > MAX_LANG_TEXT:
            raise InvalidInput(f"{field}.{lang} is longer than {MAX_LANG_TEXT} characters", code="text_too_long")
    if len(cleaned) > 20:
        raise InvalidInput(f"{field}: at most 20 languages", code="too_many_languages")
    return cleaned


MAX_QUANTITY = Decimal("1e12")


def check_quantity(value: Decimal, field: str = "quantity", maximum: Decimal = MAX_QUANTITY) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{field} must be a positive number", code="invalid_quantity")
    if value > maximum:
        raise InvalidInput(f"{field} is larger than {maximum:f}", code="invalid_quantity")
    return value


def check_gtin(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_gtin(raw)
    except GS1Error as exc:
        raise InvalidInput(str(exc), code="invalid_gtin") from exc


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
    values: dict[str, Any] = {
        "kind": data.kind,
        "name": data.name.strip(),
        "parent_id": data.parent_id,
        "description": check_lang_text("description", data.description, require_vi=False),
        "province_code": place.province_code,
        "province_name": place.province_name,
        "commune_code": place.code,
        "commune_name": place.name,
        "former_district": data.former_district,
        "address_line": data.address_line,
        "lat": data.lat,
        "lon": data.lon,
        "contact_phone": phone,
        "contact_email": data.contact_email,
        "standards": data.standards,
        "created_by": user.id,
    }
    async with conn.transaction():
        own = await access.caller_organization(conn, user.id)
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
        await q.set_user_organization(conn, user.id, org.id)
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
    changes: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if isinstance(data.commune_code, str):
        place = check_commune(data.commune_code)
        changes.update(
            commune_code=place.code,
            commune_name=place.name,
            province_code=place.province_code,
            province_name=place.province_name,
        )
    if isinstance(data.description, dict):
        changes["description"] = check_lang_text("description", data.description, require_vi=False)
    if isinstance(data.contact_phone, str):
        changes["contact_phone"] = normalize_phone(data.contact_phone)
    if isinstance(data.name, str):
        changes["name"] = data.name.strip()
    async with conn.transaction():
        await access.require_manageable(conn, user, org_id, "organization")
        current = await q.organization(conn, org_id)
        assert current is not None
        lat = changes.get("lat", current.lat)
        lon = changes.get("lon", current.lon)
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
    changes = {
        "verification_status": data.status,
        "verified_by": user.id if data.status != "unverified" else None,
        "verified_at": datetime.now(UTC) if data.status != "unverified" else None,
    }
    updated = await q.update_organization(conn, org_id, changes)
    if updated is None:
        raise NotFound("no organization with this id", code="organization_not_found")
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
    if data.kind == "ocop" and data.stars is None:
        raise InvalidInput("an OCOP certificate has 1 to 5 stars", code="ocop_stars_required")
    if data.kind != "ocop" and data.stars is not None:
        raise InvalidInput("only OCOP certificates have stars", code="stars_not_allowed")
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise InvalidInput("valid_to is before valid_from", code="invalid_validity")
    async with conn.transaction():
        if user.role == "inspector":
            await access.require_readable(conn, user, org_id, "organization")
        else:
            await access.require_manageable(conn, user, org_id, "organization")
        if data.product_id is not None:
            prod = await q.product(conn, data.product_id)
            if prod is None or prod.organization_id != org_id:
                raise NotFound("no product with this id in this organization", code="product_not_found")
        values = msgspec.structs.asdict(data) | {"organization_id": org_id, "created_by": user.id}
        return await q.insert_certification(conn, values)


async def list_certifications(
    conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID
) -> list[CertificationRead]:
    await access.require_readable(conn, user, org_id, "organization")
    return await q.certifications_of(conn, org_id)


# --- products -------------------------------------------------------------------------------------


def search_text(names: dict[str, str]) -> str:
    return " ".join(places.fold(v) for v in names.values())


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
    values: dict[str, Any] = {
        "gtin14": check_gtin(data.gtin),
        "names": names,
        "descriptions": check_lang_text("descriptions", data.descriptions, require_vi=False),
        "category": data.category,
        "ocop_stars": data.ocop_stars,
        "geographic_indication": data.geographic_indication,
        "photos": data.photos,
        "shelf_life_days": data.shelf_life_days,
        "search_text": search_text(names),
    }
    async with conn.transaction():
        values["organization_id"] = await target_organization(conn, user, data.organization_id)
        try:
            return await q.insert_product(conn, values)
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
    changes: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "gtin" in changes:
        changes["gtin14"] = check_gtin(changes.pop("gtin"))
    if isinstance(data.names, dict):
        changes["names"] = check_lang_text("names", data.names, require_vi=True)
        changes["search_text"] = search_text(changes["names"])
    if isinstance(data.descriptions, dict):
        changes["descriptions"] = check_lang_text("descriptions", data.descriptions, require_vi=False)
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


def check_geometry(geometry: dict[str, Any]) -> tuple[float, float]:
    """A GeoJSON Point or Polygon inside the province; returns (lat, lon) of the point or the ring's centre."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if set(geometry) - {"type", "coordinates"}:
        raise InvalidInput("geometry has only type and coordinates", code="invalid_geometry")
    try:
        if kind == "Point":
            lon, lat = _position(coords)
            check_point(lat, lon)
            return lat, lon
        if kind == "Polygon":
            if not isinstance(coords, list) or len(coords) != 1:
                raise InvalidInput("a plot polygon has one outer ring and no holes", code="invalid_geometry")
            ring = [_position(p) for p in coords[0]]
            if len(ring) < 4 or len(ring) > 500 or ring[0] != ring[-1]:
                raise InvalidInput(
                    "a polygon ring has 4 to 500 positions and ends where it starts", code="invalid_geometry"
                )
            for lon, lat in ring:
                check_point(lat, lon)
            points = ring[:-1]
            return sum(p[1] for p in points) / len(points), sum(p[0] for p in points) / len(points)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("geometry coordinates are [longitude, latitude] numbers", code="invalid_geometry") from exc
    raise InvalidInput("geometry is a GeoJSON Point or Polygon", code="invalid_geometry")


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise ValueError("position")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError("position")
    return float(value[0]), float(value[1])


async def create_plot(conn: asyncpg.Connection, user: CurrentUser, data: PlotCreate) -> PlotRead:
    place = check_commune(data.commune_code)
    lat, lon = check_geometry(data.geometry)
    if data.area_m2 is not None:
        check_quantity(data.area_m2, "area_m2", Decimal("1e9"))
    values: dict[str, Any] = {
        "name": data.name.strip(),
        "commune_code": place.code,
        "commune_name": place.name,
        "geometry": data.geometry,
        "lat": lat,
        "lon": lon,
        "area_m2": data.area_m2,
        "crops": data.crops,
    }
    async with conn.transaction():
        values["organization_id"] = await target_organization(conn, user, data.organization_id)
        return await q.insert_plot(conn, values)


async def readable_plot(conn: asyncpg.Connection, user: CurrentUser, plot_id: uuid.UUID) -> PlotRead:
    found = await q.plot(conn, plot_id)
    if found is None:
        raise NotFound("no plot with this id", code="plot_not_found")
    await access.require_readable(conn, user, found.organization_id, "plot")
    return found


async def create_input(conn: asyncpg.Connection, user: CurrentUser, plot_id: uuid.UUID, data: InputCreate) -> InputRead:
    """Log an application; batches already harvested inside its PHI get flagged in the same transaction."""
    if data.applied_on > today_vn():
        raise InvalidInput("applied_on is in the future", code="date_in_future")
    async with conn.transaction():
        found = await q.plot(conn, plot_id)
        if found is None:
            raise NotFound("no plot with this id", code="plot_not_found")
        await access.require_manageable(conn, user, found.organization_id, "plot")
        values = msgspec.structs.asdict(data) | {
            "plot_id": plot_id,
            "organization_id": found.organization_id,
            "created_by": user.id,
        }
        created = await q.insert_input(conn, values)
        if data.phi_days > 0:
            await q.flag_phi_violations(conn, plot_id, data.applied_on, data.phi_days)
        return created
