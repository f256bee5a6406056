"""Wire Structs of batches, their events (EPCIS-shaped), transformations, chain reports and offline sync."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from service.traceability.registry.schemas import InputCreate, MediaIds, Notes, Quantity, Unit

BatchStatus = Literal["active", "recalled"]


EventType = Literal["ObjectEvent", "TransformationEvent"]


Action = Literal["ADD", "OBSERVE", "DELETE"]


InspectionResult = Literal["conformant", "non_conformant"]


Lot = Annotated[str, Meta(min_length=1, max_length=20, description="GS1 AI 10: set 82, at most 20 characters")]


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
    # where it was harvested or made, from the place register (a farm, a packhouse): the commissioning
    # event's bizLocation and the words on the shopper page ("Thu hoạch tại Đồi chè Hồng Thái")
    place_id: uuid.UUID | None = None


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
    # where it happened, from the place register (POST /api/v1/places): becomes the bizLocation and the
    # words on the shopper page ("Đóng gói tại Xưởng chè HTX Tân Cương")
    place_id: uuid.UUID | None = None


class TransformationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Input batches become a new output batch (e.g. fresh leaves -> dried tea)."""

    inputs: Annotated[list[QuantityRef], Meta(min_length=1, max_length=50)]
    output: BatchCreate
    biz_step: Annotated[str, Meta(min_length=1, max_length=300)] = "commissioning"
    event_time: datetime | None = None
    notes: Notes | None = None
    # where the inputs became the output (e.g. the tea works); `output.place_id` means the same
    place_id: uuid.UUID | None = None


class InspectionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    result: InspectionResult
    notes: Notes | None = None
    photos: MediaIds = msgspec.field(default_factory=list)
    event_time: datetime | None = None
    # where the sample was taken: a place of the batch's organization (or its cooperative)
    place_id: uuid.UUID | None = None


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
