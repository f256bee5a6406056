"""EPCIS capture jobs and named queries on the wire (field names as the EPCIS 2.0 REST binding spells them)."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

CaptureStatus = Literal["running", "succeeded", "failed"]


class CaptureError(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """One refused event as the REST binding's capture job lists it: an RFC 7807 problem (`type`, `title`),
    plus which event (`eventIndex`, `eventId`) and our stable `code`."""

    event_index: int | None
    code: str
    detail: str
    event_id: str | None = None
    type: str = ""
    title: str = ""


class CaptureJobRead(msgspec.Struct, kw_only=True, rename="camel"):
    """The capture job: `running`/`success` as the REST binding has them, `status` in plain words."""

    capture_id: uuid.UUID = msgspec.field(name="captureID")  # as the binding spells it
    status: CaptureStatus
    running: bool
    success: bool
    capture_error_behaviour: Literal["rollback", "proceed"]
    event_count: int
    captured: int
    duplicates: int
    errors: list[CaptureError]
    created_at: datetime
    finished_at: datetime | None = None


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    grant_type: Literal["client_credentials"]


QueryName = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,80}$", description="letters, digits, _ . -")]


class NamedQueryCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A query saved by name (REST binding: POST /queries); `query` holds the GET /epcis/events parameters."""

    name: QueryName
    query: dict[str, Any]


class NamedQueryRead(msgspec.Struct, kw_only=True):
    name: str
    query: dict[str, Any]
    created_at: datetime


class SubscriptionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Subscribe a saved query to a webhook: new matching events (and recalls of held batches, always) are POSTed."""

    dest: Annotated[str, Meta(min_length=8, max_length=2000, description="the webhook URL (http or https)")]
    stream: bool | None = msgspec.field(default=None, name="stream")
    signature_token: (
        Annotated[
            str,
            Meta(min_length=16, max_length=200, description="the client's own HMAC key (else the server makes one)"),
        ]
        | None
    ) = msgspec.field(default=None, name="signatureToken")
    schedule: dict[str, Any] | None = msgspec.field(default=None, name="schedule")


class SubscriptionRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    query_name: str
    destination: str
    created_at: datetime
    cancelled_at: datetime | None = None


class SubscriptionCreated(SubscriptionRead, kw_only=True):
    """Shown once: the key the receiver checks each delivery's HMAC-SHA256 signature with."""

    signing_secret: str


DeliveryStatus = Literal["pending", "delivered", "dead"]


class DeliveryRead(msgspec.Struct, kw_only=True):
    """One webhook delivery: `dead` after its last failed try (the dead letter), kept for the partner to see."""

    id: uuid.UUID
    kind: Literal["events", "recall"]
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


class HoldingRead(msgspec.Struct, kw_only=True):
    """A partner holds one of our batches: it may capture events (receiving, storing, selling...) onto it."""

    partner_id: uuid.UUID
    partner_name: str
    batch_id: uuid.UUID
    created_at: datetime
