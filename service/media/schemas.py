"""Wire Structs of the media flow."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.media.types import Purpose

Sha256Hex = Annotated[str, Meta(pattern="^[0-9a-fA-F]{64}$", description="hex sha256 of the bytes")]


class MediaCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    purpose: Purpose
    content_type: Annotated[str, Meta(min_length=3, max_length=100, examples=["image/jpeg"])]
    bytes: Annotated[int, Meta(gt=0, description="exact size of the file")]
    sha256: Sha256Hex


class MediaUpload(msgspec.Struct, kw_only=True):
    """Where to send the bytes: PUT `upload_url` with exactly these headers before `expires_at`."""

    id: uuid.UUID
    upload_url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: datetime


class MediaRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    purpose: str
    status: Literal["pending", "ready"]
    content_type: str | None
    bytes: int
    sha256: str
    url: str
    created_at: datetime


class MediaRow(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    purpose: str
    declared_type: str
    content_type: str | None
    bytes: int
    sha256: str
    storage_key: str
    status: Literal["pending", "ready"]
    created_at: datetime
    expires_at: datetime
