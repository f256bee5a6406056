"""EPCIS capture jobs and named queries on the wire (field names as the EPCIS 2.0 REST binding spells them)."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

CaptureStatus = Literal["running", "succeeded", "failed"]


class CaptureError(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    event_index: int | None
    code: str
    detail: str
    event_id: str | None = None


class CaptureJobRead(msgspec.Struct, kw_only=True, rename="camel"):
    """The capture job: `running`/`success` as the REST binding has them, `status` in plain words."""

    capture_id: uuid.UUID
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
