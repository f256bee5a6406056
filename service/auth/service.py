"""Accounts: registration and sign-in behind attempt counters, passwords, tokens, and their administration."""

import re
import uuid
from datetime import timedelta

import asyncpg
import msgspec
import phonenumbers
from litestar.security.jwt import JWTAuth

from service.auth import queries as q
from service.auth.guards import TOKEN_VERSION_CLAIM
from service.auth.passwords import PasswordHashing
from service.auth.schemas import (
    Account,
    AccountPage,
    AccountRead,
    AccountUpdate,
    CurrentUser,
    LoginRequest,
    PasswordChange,
    PasswordReset,
    RegisterRequest,
    Role,
    TokenResponse,
    UserRead,
)
from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthorized
from service.settings import Settings


def normalize_phone(raw: str) -> str:
    """Vietnamese numbers as users type them (0912 345 678, 84912345678, +84 ...) -> E.164."""
    try:
        number = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"'{raw}' is not a phone number", code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"'{raw}' is not a valid phone number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _throttled(what: str, code: str, window: int) -> TooManyRequests:
    return TooManyRequests(
        f"quá nhiều lần {what}; vui lòng chờ rồi thử lại / too many attempts; wait a while and try again",
        code=code,
        headers={"Retry-After": str(window)},
    )


async def register_farmer(
    conn: asyncpg.Connection, hashing: PasswordHashing, data: RegisterRequest, client_ip: str, settings: Settings
) -> Account:
    """Self-registration: throttled per address and per phone; a taken phone is refused before any hashing."""
    phone = normalize_phone(data.phone)
    window = settings.register_window_seconds
    by_address, by_phone = await q.charge_attempt(conn, [f"register:ip:{client_ip}", f"register:phone:{phone}"], window)
    if by_address > settings.register_max_per_address or by_phone > settings.register_max_per_phone:
        raise _throttled("đăng ký", "registration_throttled", window)
    if await q.phone_taken(conn, phone):
        raise Conflict("an account with this phone number already exists", code="phone_taken")
    account = await q.insert_user(
        conn,
        phone=phone,
        password_hash=await hashing.hash(data.password),
        full_name=data.full_name.strip(),
        role="farmer",
    )
    if account is None:  # registered by a parallel request between the check and the insert
        raise Conflict("an account with this phone number already exists", code="phone_taken")
    return account


async def create_user(
    conn: asyncpg.Connection,
    *,
    phone: str,
    password: str,
    full_name: str,
    role: Role,
    hashing: PasswordHashing | None = None,
) -> UserRead:
    """Bootstrap path for the CLI (and tests): any role."""
    if len(password) < 8:
        raise InvalidInput("passwords have at least 8 characters", code="weak_password")
    account = await q.insert_user(
        conn,
        phone=normalize_phone(phone),
        password_hash=await (hashing or PasswordHashing(1)).hash(password),
        full_name=full_name,
        role=role,
    )
    if account is None:
        raise Conflict("an account with this phone number already exists", code="phone_taken")
    return account.user


async def authenticate(
    conn: asyncpg.Connection, hashing: PasswordHashing, data: LoginRequest, client_ip: str, settings: Settings
) -> Account:
    """Check the password; throttle by phone and, more loosely, by address (many phones share a NAT).

    The attempt is counted before the password is checked, in one statement: of N parallel wrong
    attempts at most the limit are ever verified. A success takes its own attempt back.
    """
    phone = normalize_phone(data.phone)
    phone_key = f"login:phone:{phone}"
    ip_key = f"login:ip:{client_ip}"
    window = settings.login_window_seconds
    limit = settings.login_max_attempts
    by_phone, by_address = await q.charge_attempt(conn, [phone_key, ip_key], window)
    if by_phone > limit or by_address > limit * 10:
        raise _throttled("đăng nhập sai", "login_throttled", window)
    found = await q.user_credentials(conn, phone)
    ok = await hashing.verify(found[1] if found else None, data.password)
    if not ok or found is None:
        raise Unauthorized("phone number or password is wrong", code="invalid_credentials")
    await q.clear_attempts(conn, phone_key)
    await q.refund_attempt(conn, ip_key)
    return found[0]


def issue_token(jwt_auth: "JWTAuth[CurrentUser]", account: Account, ttl_seconds: int) -> TokenResponse:
    token = jwt_auth.create_token(
        identifier=str(account.user.id),
        token_expiration=timedelta(seconds=ttl_seconds),
        token_extras={"role": account.user.role, TOKEN_VERSION_CLAIM: account.token_version},
    )
    return TokenResponse(access_token=token, expires_in=ttl_seconds, user=account.user)


async def signed_in_user(conn: asyncpg.Connection, user: CurrentUser) -> UserRead:
    """The caller's account; a token outliving its account is refused."""
    found = await q.user_by_id(conn, user.id)
    if found is None:
        raise Unauthorized("this account no longer exists or is disabled", code="account_disabled")
    return found


async def change_own_password(
    conn: asyncpg.Connection, hashing: PasswordHashing, user: CurrentUser, data: PasswordChange, settings: Settings
) -> Account:
    """The old password is required (and guessing it is throttled like sign-in); every other token ends."""
    stored = await q.password_hash_of(conn, user.id)
    if stored is None:
        raise Unauthorized("this account no longer exists or is disabled", code="account_disabled")
    account = await q.account(conn, user.id)
    assert account is not None
    key = f"login:phone:{account.phone}"
    (attempts,) = await q.charge_attempt(conn, [key], settings.login_window_seconds)
    if attempts > settings.login_max_attempts:
        raise _throttled("nhập sai mật khẩu", "password_throttled", settings.login_window_seconds)
    if not await hashing.verify(stored, data.old_password):
        raise Forbidden("mật khẩu cũ không đúng / the current password is wrong", code="wrong_password")
    await q.clear_attempts(conn, key)
    changed = await q.set_password(conn, user.id, await hashing.hash(data.new_password))
    if changed is None:
        raise Unauthorized("this account no longer exists or is disabled", code="account_disabled")
    return changed


# --- administration (role admin) ---------------------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_accounts(
    conn: asyncpg.Connection, query: str | None, role: Role | None, active: bool | None, limit: int, offset: int
) -> AccountPage:
    """Search by part of the name or of the phone number (typed as people type it: 0912..., +84 912...)."""
    name_pattern = phone_pattern = None
    text = (query or "").strip()
    if text:
        name_pattern = f"%{_like_escape(text)}%"
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 3:
            # stored as +84912...: a leading 0 (national prefix) is not part of it
            phone_pattern = f"%{digits[1:] if digits.startswith('0') else digits}%"
    items, total = await q.search_accounts(
        conn,
        name_pattern=name_pattern,
        phone_pattern=phone_pattern,
        role=role,
        active=active,
        limit=limit,
        offset=offset,
    )
    return AccountPage(items=items, total=total, limit=limit, offset=offset)


async def get_account(conn: asyncpg.Connection, user_id: uuid.UUID) -> AccountRead:
    found = await q.account(conn, user_id)
    if found is None:
        raise NotFound("no user with this id", code="user_not_found")
    return found


async def update_account(
    conn: asyncpg.Connection, admin: CurrentUser, user_id: uuid.UUID, data: AccountUpdate
) -> AccountRead:
    """Change a role or (de)activate; an administrator cannot lock themselves out."""
    role = None if data.role is msgspec.UNSET else data.role
    is_active = None if data.is_active is msgspec.UNSET else data.is_active
    if user_id == admin.id and ((role is not None and role != "admin") or is_active is False):
        raise Conflict(
            "không thể tự bỏ quyền quản trị của chính mình / you cannot remove your own administrator access",
            code="own_account",
        )
    changed = await q.update_account(conn, user_id, role=role, is_active=is_active)
    if changed is None:
        raise NotFound("no user with this id", code="user_not_found")
    return changed


async def reset_password(
    conn: asyncpg.Connection, hashing: PasswordHashing, user_id: uuid.UUID, data: PasswordReset
) -> AccountRead:
    """An administrator sets a new password (the user forgot theirs); the user's tokens end."""
    if await q.account(conn, user_id) is None:
        raise NotFound("no user with this id", code="user_not_found")
    changed = await q.set_password(conn, user_id, await hashing.hash(data.new_password))
    if changed is None:
        raise NotFound("no user with this id", code="user_not_found")
    await q.clear_attempts(conn, f"login:phone:{changed.user.phone}")
    return await get_account(conn, user_id)


async def purge_throttle_counters(conn: asyncpg.Connection, older_than_seconds: int) -> int:
    """The scheduled clean-up of throttle counters (sign-in, registration) whose window is long past."""
    return await q.delete_stale_counters(conn, older_than_seconds)
