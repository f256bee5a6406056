"""Partners and their API clients on the wire."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.core.text import VISIBLE

Scope = Literal["capture", "query"]


class Partner(msgspec.Struct, frozen=True, kw_only=True):
    """The caller of an /epcis route: which partner, through which client, allowed to do what."""

    partner_id: uuid.UUID
    client_id: uuid.UUID
    name: str
    scopes: tuple[str, ...]


class PartnerCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=200, description="the organization's name")]


class PartnerRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    created_at: datetime


class ClientCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=2)]
    label: Annotated[str, Meta(max_length=200)] = ""


class ClientRead(msgspec.Struct, kw_only=True):
    client_id: uuid.UUID
    partner_id: uuid.UUID
    label: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None = None


class ClientCreated(ClientRead, kw_only=True):
    """Shown once: the secret is stored only as its SHA-256."""

    client_secret: str


class PartnerToken(msgspec.Struct, kw_only=True):
    """OAuth 2.0-shaped answer of the client-credentials exchange (RFC 6749 section 5.1)."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
