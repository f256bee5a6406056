"""Structs on the wire for named places: farms, packhouses, warehouses, shops and markets."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from service.traceability.registry.schemas import CommuneCode, LangText, Lat, Lon

PlaceKind = Literal["farm", "packhouse", "warehouse", "shop", "market"]
Gln = Annotated[str, Meta(pattern=r"^[0-9]{13}$", description="GS1 Global Location Number (13 digits)")]


class PlaceCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    organization_id: uuid.UUID | None = None
    names: LangText
    kind: PlaceKind
    commune_code: CommuneCode
    gln: Gln | None = None
    lat: Lat | None = None
    lon: Lon | None = None


class PlaceUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    names: LangText | UnsetType = UNSET
    kind: PlaceKind | UnsetType = UNSET
    commune_code: CommuneCode | UnsetType = UNSET
    gln: Gln | UnsetType | None = UNSET
    lat: Lat | UnsetType | None = UNSET
    lon: Lon | UnsetType | None = UNSET


class PlaceRead(msgspec.Struct, kw_only=True):
    """A place as everyone sees it: names, kind, commune and a coarse position (about 100 m) are public."""

    id: uuid.UUID
    organization_id: uuid.UUID
    names: dict[str, str]
    kind: PlaceKind
    commune_code: str
    commune_name: str
    gln: str | None
    lat: float | None
    lon: float | None
    created_at: datetime
    updated_at: datetime
