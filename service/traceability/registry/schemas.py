"""Wire Structs of the register (organizations, members, certifications, products, plots, inputs).

Also the field types the whole domain shares (names, positions, commune codes, GTINs, quantities).
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from service.core.text import VISIBLE

OrganizationKind = Literal["household", "cooperative", "enterprise"]


VerificationStatus = Literal["unverified", "verified", "rejected"]


CertificationKind = Literal["vietgap", "organic", "ocop", "geographic_indication", "other"]


# declared: submitted by the producer, awaiting an inspector; verified or rejected: an inspector decided
CertificationStatus = Literal["declared", "verified", "rejected"]


Category = Literal["tea", "longan", "pomelo", "custard_apple", "cinnamon", "other"]


Name = Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=200)]


ShortText = Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=300)]


Notes = Annotated[str, Meta(max_length=2000)]


Lat = Annotated[float, Meta(ge=-90, le=90)]


Lon = Annotated[float, Meta(ge=-180, le=180)]


Stars = Annotated[int, Meta(ge=1, le=5)]


CommuneCode = Annotated[str, Meta(pattern=r"^[0-9]{4,5}$", description="official 2025 commune/ward code, e.g. 05443")]


Gtin = Annotated[str, Meta(min_length=8, max_length=20, description="GTIN-8/12/13/14 with its check digit")]


# msgspec has no numeric constraints for Decimal: the services check 0 < q <= 1e12 (invalid_quantity)
Quantity = Annotated[Decimal, Meta(description="a positive decimal number, at most 1e12")]


Unit = Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=20, description="e.g. kg, tấn, hộp, túi")]


MediaIds = Annotated[list[uuid.UUID], Meta(max_length=20)]


# {"vi": required, "en": optional, other BCP 47 languages allowed}
LangText = Annotated[dict[str, str], Meta(description='per language: {"vi": "...", "en": "..."}; vi required')]


Standards = Annotated[list[Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=100)]], Meta(max_length=20)]


Crops = Annotated[list[Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=100)]], Meta(max_length=20)]


class OrganizationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: OrganizationKind = "household"
    name: Name
    commune_code: CommuneCode
    former_district: Annotated[str, Meta(max_length=100)] | None = None
    address_line: Annotated[str, Meta(max_length=300)] | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    contact_phone: Annotated[str, Meta(max_length=32)] | None = None
    contact_email: Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    description: LangText = msgspec.field(default_factory=dict)
    standards: Standards = msgspec.field(default_factory=list)
    # a cooperative user registering a member household sets this to the cooperative's id
    parent_id: uuid.UUID | None = None


class OrganizationUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | UnsetType = UNSET
    commune_code: CommuneCode | UnsetType = UNSET
    former_district: Annotated[str, Meta(max_length=100)] | UnsetType | None = UNSET
    address_line: Annotated[str, Meta(max_length=300)] | UnsetType | None = UNSET
    lat: Lat | UnsetType | None = UNSET
    lon: Lon | UnsetType | None = UNSET
    contact_phone: Annotated[str, Meta(max_length=32)] | UnsetType | None = UNSET
    contact_email: Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | UnsetType | None = (
        UNSET
    )
    description: LangText | UnsetType = UNSET
    standards: Standards | UnsetType = UNSET
    # the farm's photos (uploaded first through /api/v1/media, purpose "product_photo"); the pages show the first
    photos: MediaIds | UnsetType = UNSET


class VerificationUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    status: VerificationStatus


class OrganizationRead(msgspec.Struct, kw_only=True):
    """Full record: only for members, their cooperative, inspectors and admins."""

    id: uuid.UUID
    kind: OrganizationKind
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
    verification_status: VerificationStatus
    verified_by: uuid.UUID | None
    verified_at: datetime | None
    standards: list[str]
    photos: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime


class OrganizationPublic(msgspec.Struct, kw_only=True):
    """What anyone may read about a producer: no contact data, no people."""

    id: uuid.UUID
    kind: OrganizationKind
    name: str
    province_name: str
    commune_code: str
    commune_name: str
    former_district: str | None
    lat: float | None
    lon: float | None
    verified: bool
    standards: list[str]


class CertificationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: CertificationKind
    issuer: ShortText
    number: Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=100)]
    valid_from: date
    valid_to: date | None = None
    stars: Stars | None = None
    decision_number: Annotated[str, Meta(max_length=100)] | None = None
    product_id: uuid.UUID | None = None
    # a photo or PDF of the certificate, uploaded first through /api/v1/media with purpose "certificate"
    document_media_id: uuid.UUID | None = None


class CertificationRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organization_id: uuid.UUID
    product_id: uuid.UUID | None
    kind: CertificationKind
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    stars: int | None
    decision_number: str | None
    document_media_id: uuid.UUID | None
    created_at: datetime
    status: CertificationStatus
    expired: bool
    reviewed_by_authority: str | None
    reviewed_at: datetime | None
    review_reason: str | None


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    organization_id: uuid.UUID | None = None  # defaults to the caller's organization
    names: LangText
    descriptions: LangText = msgspec.field(default_factory=dict)
    category: Category
    gtin: Gtin | None = None
    ocop_stars: Stars | None = None
    geographic_indication: Annotated[str, Meta(max_length=200)] | None = None
    photos: MediaIds = msgspec.field(default_factory=list)
    shelf_life_days: Annotated[int, Meta(gt=0, le=3650)] | None = None


class ProductUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    names: LangText | UnsetType = UNSET
    descriptions: LangText | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    gtin: Gtin | UnsetType | None = UNSET
    ocop_stars: Stars | UnsetType | None = UNSET
    geographic_indication: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    photos: MediaIds | UnsetType = UNSET
    shelf_life_days: Annotated[int, Meta(gt=0, le=3650)] | UnsetType | None = UNSET


class ProductRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organization_id: uuid.UUID
    gtin14: str | None
    names: dict[str, str]
    descriptions: dict[str, str]
    category: Category
    ocop_stars: int | None
    geographic_indication: str | None
    photos: list[uuid.UUID]
    shelf_life_days: int | None
    created_at: datetime
    updated_at: datetime


class PlotCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    organization_id: uuid.UUID | None = None
    name: Name
    commune_code: CommuneCode
    # GeoJSON (RFC 7946, [lon, lat]): {"type": "Point", "coordinates": [105.8, 21.6]} or a Polygon
    geometry: dict[str, Any]
    area_m2: Annotated[Decimal, Meta(description="positive, at most 1e9")] | None = None
    crops: Crops = msgspec.field(default_factory=list)


class PlotRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    commune_code: str
    commune_name: str
    geometry: dict[str, Any]
    lat: float
    lon: float
    area_m2: Decimal | None
    crops: list[str]
    created_at: datetime
    updated_at: datetime


class InputCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    applied_on: date
    product_name: Name
    active_ingredient: Annotated[str, Meta(max_length=200)] | None = None
    dose: Annotated[str, Meta(max_length=100)] | None = None
    phi_days: Annotated[int, Meta(ge=0, le=365)] = 0
    notes: Notes | None = None


class InputRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    plot_id: uuid.UUID
    organization_id: uuid.UUID
    applied_on: date
    product_name: str
    active_ingredient: str | None
    dose: str | None
    phi_days: int
    notes: str | None
    created_at: datetime


# --- what other domains read (through traceability.public) ----------------------------------------


class ProducerSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: OrganizationKind
    commune_name: str
    lat: float
    lon: float
    distance_km: float
    verified: bool
    max_ocop_stars: int | None
    products: list[str]  # product names in the asked language


class ProductSummary(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    category: Category
    gtin14: str | None
    ocop_stars: int | None
    producer_id: uuid.UUID
    producer_name: str
    commune_name: str
    lat: float | None
    lon: float | None
