"""Accounts: registration, sign-in with throttling, password hashing off the event loop, tokens."""

import asyncio
from datetime import timedelta

import asyncpg
import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.security.jwt import JWTAuth

from service.auth.queries import (
    clear_failures,
    delete_stale_failures,
    insert_user,
    recent_failures,
    record_failure,
    user_by_id,
    user_credentials,
)
from service.auth.schemas import CurrentUser, LoginRequest, RegisterRequest, Role, TokenResponse, UserRead
from service.core.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from service.settings import Settings

_hasher = PasswordHasher()


# A real hash to verify against when the phone is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


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


async def signed_in_user(conn: asyncpg.Connection, user: CurrentUser) -> UserRead:
    """The caller's account; a token outliving its account is refused."""
    found = await user_by_id(conn, user.id)
    if found is None:
        raise Unauthorized("this account no longer exists or is disabled", code="account_disabled")
    return found


async def purge_login_failures(conn: asyncpg.Connection, window_seconds: int) -> int:
    """The scheduled clean-up of sign-in failure counters older than the throttle window."""
    return await delete_stale_failures(conn, window_seconds)
