"""Partner clients: secrets made and checked, short-lived bearer tokens, revocation that holds at once.

A client secret is 256 random bits (`secrets.token_urlsafe(32)`), so one SHA-256 of it is as good as a
slow password hash (there is nothing to guess) and costs nothing on every HTTP Basic request; argon2 is
for secrets people choose. A bearer token is HMAC-SHA256-signed (client id, expiry); every request
still reads the client's row, so a revoked client is refused at once, token or not.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
import uuid

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core.errors import NotFound, Unauthorized
from service.partners import queries as pq
from service.partners.schemas import (
    ClientCreate,
    ClientCreated,
    ClientRead,
    Partner,
    PartnerCreate,
    PartnerRead,
    PartnerToken,
)

TOKEN_PREFIX = "ptk."
CHALLENGE = {"WWW-Authenticate": 'Basic realm="epcis", charset="UTF-8", Bearer realm="epcis"'}


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


async def create_partner(conn: asyncpg.Connection, user: CurrentUser, data: PartnerCreate) -> PartnerRead:
    return await pq.insert_partner(conn, data.name.strip() or data.name, user.id)


async def list_partners(conn: asyncpg.Connection) -> list[PartnerRead]:
    return await pq.list_partners(conn)


async def _require_partner(conn: asyncpg.Connection, partner_id: uuid.UUID) -> None:
    if not await pq.partner_exists(conn, partner_id):
        raise NotFound("no partner with this id", code="partner_not_found")


async def create_client(conn: asyncpg.Connection, partner_id: uuid.UUID, data: ClientCreate) -> ClientCreated:
    await _require_partner(conn, partner_id)
    secret = secrets.token_urlsafe(32)
    stored = await pq.insert_client(conn, partner_id, data.label, secret_digest(secret), sorted(set(data.scopes)))
    return ClientCreated(**msgspec.structs.asdict(stored), client_secret=secret)


async def list_clients(conn: asyncpg.Connection, partner_id: uuid.UUID) -> list[ClientRead]:
    await _require_partner(conn, partner_id)
    return await pq.list_clients(conn, partner_id)


async def revoke_client(conn: asyncpg.Connection, partner_id: uuid.UUID, client_id: uuid.UUID) -> ClientRead:
    revoked = await pq.revoke_client(conn, partner_id, client_id)
    if revoked is None:
        raise NotFound("no client with this id for this partner", code="client_not_found")
    return revoked


def _refused(detail: str) -> Unauthorized:
    return Unauthorized(detail, code="partner_unauthorized", headers=CHALLENGE)


async def _active_client(conn: asyncpg.Connection, client_id: uuid.UUID) -> pq.StoredClient:
    found = await pq.client(conn, client_id)
    if found is None or found.revoked:
        raise _refused("unknown or revoked client")
    return found


def _principal(found: pq.StoredClient) -> Partner:
    return Partner(partner_id=found.partner_id, client_id=found.client_id, name=found.name, scopes=tuple(found.scopes))


async def check_basic(conn: asyncpg.Connection, client_id_text: str, secret: str) -> Partner:
    try:
        client_id = uuid.UUID(client_id_text)
    except ValueError:
        raise _refused("the client id is not one we issued") from None
    found = await pq.client(conn, client_id)
    # compare even for an unknown client so both paths cost the same
    expected = found.secret_sha256 if found is not None else "0" * 64
    if not hmac.compare_digest(expected, secret_digest(secret)) or found is None or found.revoked:
        raise _refused("unknown or revoked client, or a wrong secret")
    return _principal(found)


def _token_key(signing_secret: str) -> bytes:
    return hmac.new(signing_secret.encode(), b"epcis-partner-token-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(partner: Partner, signing_secret: str, ttl_seconds: int) -> PartnerToken:
    payload = _b64(msgspec.json.encode({"cid": str(partner.client_id), "exp": int(time.time()) + ttl_seconds}))
    signature = _b64(hmac.new(_token_key(signing_secret), payload.encode(), hashlib.sha256).digest())
    return PartnerToken(
        access_token=f"{TOKEN_PREFIX}{payload}.{signature}",
        token_type="Bearer",  # noqa: S106 - the scheme, not a secret
        expires_in=ttl_seconds,
    )


class _TokenClaims(msgspec.Struct):
    cid: uuid.UUID
    exp: int


async def check_token(conn: asyncpg.Connection, token: str, signing_secret: str) -> Partner:
    if not token.startswith(TOKEN_PREFIX) or token.count(".") != 2:
        raise _refused("not a partner token")
    payload, _, signature = token[len(TOKEN_PREFIX) :].partition(".")
    expected = _b64(hmac.new(_token_key(signing_secret), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise _refused("the token's signature does not match")
    try:
        claims = msgspec.json.decode(_unb64(payload), type=_TokenClaims)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise _refused("the token cannot be read") from None
    if claims.exp < time.time():
        raise _refused("the token has expired: exchange the client credentials again")
    return _principal(await _active_client(conn, claims.cid))


async def authenticate(conn: asyncpg.Connection, authorization: str, signing_secret: str) -> Partner:
    """HTTP Basic (client id : secret) or a bearer token from POST /epcis/token."""
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _refused("the Basic credentials are not base64 of client_id:secret") from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise _refused("the Basic credentials are not client_id:secret")
        return await check_basic(conn, client_id, secret)
    if scheme.lower() == "bearer" and value:
        return await check_token(conn, value, signing_secret)
    raise _refused("this needs a partner's client credentials (HTTP Basic) or a partner bearer token")
