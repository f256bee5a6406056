"""Wire Structs of the traceability domain: Create / Update / Read per resource."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

OrganizationKind = Literal["household", "cooperative", "enterprise"]
VerificationStatus = Literal["unverified", "verified", "rejected"]
CertificationKind = Literal["vietgap", "organic", "ocop", "geographic_indication", "other"]
Category = Literal["tea", "longan", "pomelo", "custard_apple", "cinnamon", "other"]
BatchStatus = Literal["active", "recalled"]
EventType = Literal["ObjectEvent", "TransformationEvent"]
Action = Literal["ADD", "OBSERVE", "DELETE"]
InspectionResult = Literal["conformant", "non_conformant"]

Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(min_length=1, max_length=300)]
Notes = Annotated[str, Meta(max_length=2000)]
Lat = Annotated[float, Meta(ge=-90, le=90)]
Lon = Annotated[float, Meta(ge=-180, le=180)]
Stars = Annotated[int, Meta(ge=1, le=5)]
CommuneCode = Annotated[str, Meta(pattern=r"^[0-9]{4,5}$", description="official 2025 commune/ward code, e.g. 05443")]
Gtin = Annotated[str, Meta(min_length=8, max_length=20, description="GTIN-8/12/13/14 with its check digit")]
Lot = Annotated[str, Meta(min_length=1, max_length=20, description="GS1 AI 10: set 82, at most 20 characters")]
# msgspec has no numeric constraints for Decimal: the services check 0 < q <= 1e12 (invalid_quantity)
Quantity = Annotated[Decimal, Meta(description="a positive decimal number, at most 1e12")]
Unit = Annotated[str, Meta(min_length=1, max_length=20, description="e.g. kg, tấn, hộp, túi")]
MediaIds = Annotated[list[uuid.UUID], Meta(max_length=20)]
# {"vi": required, "en": optional, other BCP 47 languages allowed}
LangText = Annotated[dict[str, str], Meta(description='per language: {"vi": "...", "en": "..."}; vi required')]
Standards = Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=20)]
Crops = Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=20)]


# --- organizations --------------------------------------------------------------------------------


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


# --- certifications -------------------------------------------------------------------------------


class CertificationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: CertificationKind
    issuer: ShortText
    number: Annotated[str, Meta(min_length=1, max_length=100)]
    valid_from: date
    valid_to: date | None = None
    stars: Stars | None = None
    decision_number: Annotated[str, Meta(max_length=100)] | None = None
    product_id: uuid.UUID | None = None


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
    created_at: datetime


# --- products -------------------------------------------------------------------------------------


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


# --- plots and inputs -----------------------------------------------------------------------------


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


# --- batches --------------------------------------------------------------------------------------


class BatchCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: uuid.UUID | None = None  # client-generated ids are welcome (offline phones)
    product_id: uuid.UUID
    lot: Lot | None = None
    quantity: Quantity
    unit: Unit
    harvest_date: date | None = None
    harvest_end: date | None = None
    plot_id: uuid.UUID | None = None
    photos: MediaIds = msgspec.field(default_factory=list)
    expiry_date: date | None = None
    notes: Notes | None = None
    # when the harvest (commissioning) happened; defaults to now
    event_time: datetime | None = None


class BatchRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    product_id: uuid.UUID
    organization_id: uuid.UUID
    lot: str
    code: str
    quantity: Decimal
    quantity_available: Decimal
    unit: str
    harvest_date: date | None
    harvest_end: date | None
    plot_id: uuid.UUID | None
    photos: list[uuid.UUID]
    expiry_date: date | None
    notes: str | None
    status: BatchStatus
    recall_reason: str | None
    recalled_at: datetime | None
    phi_violation: bool
    created_at: datetime
    updated_at: datetime


# --- events ---------------------------------------------------------------------------------------


class QuantityRef(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    batch_id: uuid.UUID
    quantity: Quantity
    unit: Unit


class EventCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An ObjectEvent on this batch (bizStep from CBV 2.0 or a URI)."""

    biz_step: Annotated[str, Meta(min_length=1, max_length=300)]
    disposition: Annotated[str, Meta(min_length=1, max_length=300)] | None = None
    event_time: datetime | None = None
    quantity: Quantity | None = None
    unit: Unit | None = None
    notes: Notes | None = None
    photos: MediaIds = msgspec.field(default_factory=list)
    # shipping/receiving: the other party (free text, public)
    destination: Annotated[str, Meta(max_length=300)] | None = None


class TransformationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Input batches become a new output batch (e.g. fresh leaves -> dried tea)."""

    inputs: Annotated[list[QuantityRef], Meta(min_length=1, max_length=50)]
    output: BatchCreate
    biz_step: Annotated[str, Meta(min_length=1, max_length=300)] = "commissioning"
    event_time: datetime | None = None
    notes: Notes | None = None


class InspectionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    result: InspectionResult
    notes: Notes | None = None
    photos: MediaIds = msgspec.field(default_factory=list)
    event_time: datetime | None = None


class RecallCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Annotated[str, Meta(min_length=3, max_length=2000)]


class EventRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    batch_id: uuid.UUID
    seq: int
    event_type: EventType
    action: Action | None
    biz_step: str
    disposition: str | None
    event_time: datetime
    event_time_zone_offset: str
    record_time: datetime
    read_point: str | None
    biz_location: str | None
    quantity: Decimal | None
    unit: str | None
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    details: dict[str, Any]
    recorded_by: uuid.UUID | None
    prev_hash: str
    hash: str


class TransformationRead(msgspec.Struct, kw_only=True):
    event: EventRead
    output: BatchRead


class ChainReport(msgspec.Struct, kw_only=True):
    batch_id: uuid.UUID
    valid: bool
    events: int
    first_broken_seq: int | None = None
    first_broken_event_id: uuid.UUID | None = None
    reason: str | None = None


# --- offline sync ---------------------------------------------------------------------------------


class SyncOperation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    client_id: Annotated[str, Meta(min_length=1, max_length=100, description="unique per operation")]
    op: Literal["create_batch", "append_event", "create_input"]
    batch: BatchCreate | None = None
    batch_id: uuid.UUID | None = None
    event: EventCreate | None = None
    plot_id: uuid.UUID | None = None
    input: InputCreate | None = None


class SyncRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    operations: Annotated[list[SyncOperation], Meta(min_length=1, max_length=200)]


class SyncResult(msgspec.Struct, kw_only=True):
    client_id: str
    status: int
    replayed: bool = False
    resource_id: uuid.UUID | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class SyncResponse(msgspec.Struct, kw_only=True):
    results: list[SyncResult]


# --- public read views (shopper page, resolver, tourism cross-links) -----------------------------


class ProductPublic(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    gtin14: str | None
    name: str  # in the asked language, falling back to Vietnamese
    names: dict[str, str]
    description: str | None
    category: Category
    ocop_stars: int | None
    geographic_indication: str | None
    photos: list[uuid.UUID]
    shelf_life_days: int | None


class PlotPublic(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    commune_code: str
    commune_name: str
    lat: float
    lon: float


class CertificationPublic(msgspec.Struct, kw_only=True):
    kind: CertificationKind
    issuer: str
    number: str
    valid_from: date
    valid_to: date | None
    stars: int | None
    decision_number: str | None
    product_id: uuid.UUID | None


class EventStep(msgspec.Struct, kw_only=True):
    """One line of the timeline, in plain words."""

    seq: int
    event_type: EventType
    biz_step: str
    disposition: str | None
    label: str  # e.g. "Thu hoạch" / "Harvested"
    event_time: datetime  # aware, +07:00
    where: str | None  # plot or organization name
    quantity: Decimal | None
    unit: str | None
    result: InspectionResult | None = None
    notes: str | None = None
    destination: str | None = None


class BatchView(msgspec.Struct, kw_only=True):
    """Everything the shopper page shows about one batch, read in two round trips."""

    id: uuid.UUID
    lot: str
    code: str
    status: BatchStatus
    recall_reason: str | None
    recalled_at: datetime | None
    phi_violation: bool
    quantity: Decimal
    unit: str
    harvest_date: date | None
    harvest_end: date | None
    expiry_date: date | None
    photos: list[uuid.UUID]
    created_at: datetime
    product: ProductPublic
    producer: OrganizationPublic
    cooperative: OrganizationPublic | None
    plot: PlotPublic | None
    certifications: list[CertificationPublic]  # valid today
    events: list[EventStep]


class ProducerRef(msgspec.Struct, kw_only=True):
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


class ProductHit(msgspec.Struct, kw_only=True):
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
