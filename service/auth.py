"""Users, password hashing, tokens and role guards."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody
from litestar.security.jwt import JWTAuth, Token
from msgspec import Meta

from service.db import DB
from service.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from service.settings import Settings

Role = Literal["farmer", "cooperative", "inspector", "editor", "admin"]
ROLES: tuple[Role, ...] = ("farmer", "cooperative", "inspector", "editor", "admin")

_hasher = PasswordHasher()
# A real hash to verify against when the phone is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")

Phone = Annotated[str, Meta(min_length=3, max_length=32, description="Vietnamese number, e.g. 0912 345 678")]
Password = Annotated[str, Meta(min_length=8, max_length=128)]
FullName = Annotated[str, Meta(min_length=1, max_length=200)]


class CurrentUser(msgspec.Struct, frozen=True):
    """Who is calling, as carried in the token: enough to authorise without a database round trip."""

    id: uuid.UUID
    role: Role

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


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


def normalize_phone(raw: str) -> str:
    """Vietnamese numbers as users type them (0912 345 678, 84912345678, +84 ...) -> E.164."""
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"'{raw}' is not a phone number", code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"'{raw}' is not a valid phone number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def hash_password(password: str) -> str:
    """argon2 is deliberately slow: keep it off the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


# --- queries -----------------------------------------------------------------------------------

_USER_COLUMNS = "id, phone, full_name, role, organization_id, created_at"


async def insert_user(
    conn: asyncpg.Connection, *, phone: str, password_hash: str, full_name: str, role: Role
) -> UserRead | None:
    row = await conn.fetchrow(
        f"""
        insert into users (phone, password_hash, full_name, role) values ($1, $2, $3, $4)
        on conflict (phone) do nothing
        returning {_USER_COLUMNS}
        """,  # noqa: S608 - constant column list
        phone,
        password_hash,
        full_name,
        role,
    )
    return None if row is None else msgspec.convert(dict(row), UserRead)


async def user_by_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> UserRead | None:
    row = await conn.fetchrow(
        f"select {_USER_COLUMNS} from users where id = $1 and is_active",  # noqa: S608 - constant column list
        user_id,
    )
    return None if row is None else msgspec.convert(dict(row), UserRead)


async def user_credentials(conn: asyncpg.Connection, phone: str) -> tuple[UserRead, str] | None:
    row = await conn.fetchrow(
        f"select {_USER_COLUMNS}, password_hash from users where phone = $1 and is_active",  # noqa: S608
        phone,
    )
    if row is None:
        return None
    data = dict(row)
    password_hash = data.pop("password_hash")
    return msgspec.convert(data, UserRead), password_hash


async def recent_failures(conn: asyncpg.Connection, keys: list[str], window: int) -> int:
    """The highest failure count among the keys, counting only failures inside the window."""
    value = await conn.fetchval(
        """
        select coalesce(max(failures), 0) from login_failures
        where key = any($1::text[]) and window_start > now() - make_interval(secs => $2)
        """,
        keys,
        window,
    )
    return int(value)


async def record_failure(conn: asyncpg.Connection, keys: list[str], window: int) -> None:
    await conn.execute(
        """
        insert into login_failures (key, window_start, failures)
        select k, now(), 1 from unnest($1::text[]) as k
        on conflict (key) do update set
            failures = case when login_failures.window_start > now() - make_interval(secs => $2)
                            then login_failures.failures + 1 else 1 end,
            window_start = case when login_failures.window_start > now() - make_interval(secs => $2)
                                then login_failures.window_start else now() end
        """,
        keys,
        window,
    )


async def clear_failures(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute("delete from login_failures where key = $1", key)


# --- services ----------------------------------------------------------------------------------


async def register_farmer(conn: asyncpg.Connection, data: RegisterRequest) -> UserRead:
    phone = normalize_phone(data.phone)
    user = await insert_user(
        conn,
        phone=phone,
        password_hash=await hash_password(data.password),
        full_name=data.full_name.strip(),
        role="farmer",
    )
    if user is None:
        raise Conflict("an account with this phone number already exists", code="phone_taken")
    return user


async def create_user(conn: asyncpg.Connection, *, phone: str, password: str, full_name: str, role: Role) -> UserRead:
    """Bootstrap path for the CLI: any role."""
    if len(password) < 8:
        raise InvalidInput("passwords have at least 8 characters", code="weak_password")
    user = await insert_user(
        conn,
        phone=normalize_phone(phone),
        password_hash=await hash_password(password),
        full_name=full_name,
        role=role,
    )
    if user is None:
        raise Conflict("an account with this phone number already exists", code="phone_taken")
    return user


async def authenticate(conn: asyncpg.Connection, data: LoginRequest, client_ip: str, settings: Settings) -> UserRead:
    """Check the password; throttle by phone and, more loosely, by address (many phones share a NAT)."""
    phone = normalize_phone(data.phone)
    phone_key = f"phone:{phone}"
    ip_key = f"ip:{client_ip}"
    window = settings.login_window_seconds
    limit = settings.login_max_attempts
    if (
        await recent_failures(conn, [phone_key], window) >= limit
        or await recent_failures(conn, [ip_key], window) >= limit * 10
    ):
        raise TooManyRequests(
            "too many failed sign-ins; wait a few minutes and try again",
            code="login_throttled",
            headers={"Retry-After": str(window)},
        )
    found = await user_credentials(conn, phone)
    ok = await verify_password(found[1] if found else None, data.password)
    if not ok or found is None:
        await record_failure(conn, [phone_key, ip_key], window)
        raise Unauthorized("phone number or password is wrong", code="invalid_credentials")
    await clear_failures(conn, phone_key)
    return found[0]


def issue_token(jwt_auth: "JWTAuth[CurrentUser]", user: UserRead, ttl_seconds: int) -> TokenResponse:
    token = jwt_auth.create_token(
        identifier=str(user.id),
        token_expiration=timedelta(seconds=ttl_seconds),
        token_extras={"role": user.role},
    )
    return TokenResponse(access_token=token, expires_in=ttl_seconds, user=user)


# --- wiring: token -> CurrentUser, guards, routes -----------------------------------------------


async def user_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    try:
        return CurrentUser(id=uuid.UUID(token.sub), role=msgspec.convert(token.extras.get("role"), Role))
    except (ValueError, msgspec.ValidationError):
        return None


def build_jwt_auth(settings: Settings) -> "JWTAuth[CurrentUser]":
    return JWTAuth[CurrentUser](
        token_secret=settings.jwt_secret,
        retrieve_user_handler=user_from_token,
        default_token_expiration=timedelta(seconds=settings.jwt_ttl_seconds),
        exclude=["^/schema", "^/metrics"],
    )


def requires_role(
    *roles: Role,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard: the caller's role must be one of these."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.user
        if not isinstance(user, CurrentUser) or user.role not in allowed:
            from litestar.exceptions import PermissionDeniedException

            raise PermissionDeniedException(f"this needs one of the roles: {', '.join(sorted(allowed))}")

    return guard


def client_address(request: Request[Any, Any, Any]) -> str:
    """Fly puts the real client address in Fly-Client-IP; locally it is the socket peer."""
    forwarded = request.headers.get("fly-client-ip")
    if forwarded:
        return forwarded.strip()[:64]
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @post("/auth/register", operation_id="register", exclude_from_auth=True, status_code=201)
    async def register(self, db: DB, state: State, data: JSONBody[RegisterRequest]) -> TokenResponse:
        """Farmer self-registration; returns a token so the app can go on straight away."""
        user = await register_farmer(db, data)
        settings: Settings = state.settings
        return issue_token(state.jwt_auth, user, settings.jwt_ttl_seconds)

    @post("/auth/login", operation_id="login", exclude_from_auth=True, status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: State,
        data: JSONBody[LoginRequest],
    ) -> TokenResponse:
        """Exchange phone and password for a bearer token."""
        settings: Settings = state.settings
        user = await authenticate(db, data, client_address(request), settings)
        return issue_token(state.jwt_auth, user, settings.jwt_ttl_seconds)

    @get("/me", operation_id="me")
    async def me(self, request: Request[CurrentUser, Token, Any], db: DB) -> UserRead:
        """The signed-in user."""
        user = await user_by_id(db, request.user.id)
        if user is None:
            raise Unauthorized("this account no longer exists or is disabled", code="account_disabled")
        return user
