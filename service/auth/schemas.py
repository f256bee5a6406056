"""Wire Structs of accounts and tokens, and the caller as carried in a token."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.core.text import VISIBLE

Role = Literal["farmer", "cooperative", "inspector", "editor", "admin"]


ROLES: tuple[Role, ...] = ("farmer", "cooperative", "inspector", "editor", "admin")


Phone = Annotated[str, Meta(min_length=3, max_length=32, description="Vietnamese number, e.g. 0912 345 678")]


Password = Annotated[str, Meta(min_length=8, max_length=128)]


FullName = Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=200)]


class CurrentUser(msgspec.Struct, frozen=True):
    """Who is calling, as carried in the token: enough to authorise without a database round trip."""

    id: uuid.UUID
    role: Role


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    phone: Phone
    password: Password
    full_name: FullName


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    phone: Phone
    password: Annotated[str, Meta(min_length=1, max_length=128)]


class UserRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    phone: str
    full_name: str
    role: Role
    organization_id: uuid.UUID | None
    created_at: datetime


class TokenResponse(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserRead


class Account(msgspec.Struct, kw_only=True):
    """A user as the services see it (never on the wire): the record and the version its tokens carry."""

    user: UserRead
    token_version: int


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """What every authenticated request checks a token against (cached per worker)."""

    token_version: int
    role: Role
    is_active: bool


class AccountRead(UserRead, kw_only=True):
    """A user as an administrator sees it."""

    is_active: bool
    updated_at: datetime


class AccountPage(msgspec.Struct, kw_only=True):
    items: list[AccountRead]
    total: int
    limit: int
    offset: int


class AccountUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An administrator's change to an account; either change ends the account's current tokens."""

    role: Role | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    new_password: Password


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    old_password: Annotated[str, Meta(min_length=1, max_length=128)]
    new_password: Password
