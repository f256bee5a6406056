"""Token -> CurrentUser, the JWT backend, role guards and the caller's address."""

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self, TypeAlias

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token
from litestar.types import Scope

from service.auth.schemas import CurrentUser, Role
from service.auth.sessions import Sessions
from service.settings import Settings

TOKEN_VERSION_CLAIM = "ver"
REMEMBERED_TOKENS = 4096  # per worker; a token is ~300 bytes and its Token a few hundred more


@dataclass
class RememberedToken(Token):
    """A bearer token whose signature is checked once per worker, not on every request.

    A phone sends the same token with every request until it expires; checking its HMAC, decoding its base64 and
    JSON each time was the largest single cost of an authenticated request after the database (profile of batch
    registration). A token string seen before, with the same secret and algorithm, gives back the Token it
    decoded to, as long as that has not expired: the expiry is checked again on every use, and revocation does
    not depend on this (the token's version is checked on every request by `user_from_token`). Oldest first out
    when full.
    """

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        key = (encoded_token, secret, algorithm)
        plain = audience is None and issuer is None and not require_claims and verify_exp and verify_nbf
        known = _remembered.get(key) if plain else None
        if known is not None and known.exp.timestamp() > time.time():
            return known  # type: ignore[return-value]  # stored by this very class
        token = super().decode(
            encoded_token,
            secret,
            algorithm,
            audience=audience,
            issuer=issuer,
            require_claims=require_claims,
            verify_exp=verify_exp,
            verify_nbf=verify_nbf,
            strict_audience=strict_audience,
        )
        if plain:
            _remembered.pop(key, None)
            if len(_remembered) >= REMEMBERED_TOKENS:
                del _remembered[next(iter(_remembered))]
            _remembered[key] = token
        return token


_remembered: dict[tuple[str, str, str], RememberedToken] = {}


async def user_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """The caller, if the token's version is still its user's (deactivation, a new role or password end it)."""
    try:
        user = CurrentUser(id=uuid.UUID(token.sub), role=msgspec.convert(token.extras.get("role"), Role))
        version = msgspec.convert(token.extras.get(TOKEN_VERSION_CLAIM), int)
    except (ValueError, msgspec.ValidationError):
        return None
    sessions: Sessions | None = getattr(connection.app.state, "sessions", None)
    if sessions is None or not await sessions.accepts(user.id, user.role, version):
        return None  # no session store wired: refuse rather than trust the token alone
    return user


def build_jwt_auth(settings: Settings) -> "JWTAuth[CurrentUser]":
    return JWTAuth[CurrentUser](
        token_secret=settings.jwt_secret,
        token_cls=RememberedToken,
        retrieve_user_handler=user_from_token,
        default_token_expiration=timedelta(seconds=settings.jwt_ttl_seconds),
        exclude=["^/schema", "^/metrics"],
    )


def requires_role(
    *roles: Role,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard: the caller's role must be one of these.

    `async` although it awaits nothing: Litestar runs a plain-function guard in its thread pool, so every
    guarded request (every write) paid a hop to a thread and back, which under load cost more CPU than the
    check itself (py-spy of the registration benchmark: the thread pool's wake-ups and GIL hand-offs).
    """
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # the automatic OPTIONS answer (no token checked, nothing served) of a guarded controller
        user = connection.scope.get("user")
        if not isinstance(user, CurrentUser) or user.role not in allowed:
            from litestar.exceptions import PermissionDeniedException

            raise PermissionDeniedException(f"this needs one of the roles: {', '.join(sorted(allowed))}")

    return guard


def client_address(request: Request[Any, Any, Any]) -> str:
    """The socket peer, or what the proxy in front of us says (TRUSTED_PROXY_HEADER, e.g. Fly-Client-IP)."""
    return client_address_of(request.scope, request.app.state.settings)


def client_address_of(scope: Scope, settings: Settings) -> str:
    """`client_address` from the raw ASGI scope (the edge's warm lanes have no Request).

    A header is believed only when configured: without a proxy anyone can send any header. For
    X-Forwarded-For the last entry is taken, the one our own proxy appended (earlier ones are the client's word).
    """
    header = settings.trusted_proxy_header
    if header:
        name = header.lower().encode("latin-1")
        values = [value for key, value in scope["headers"] if key == name]
        if values:
            claimed = values[-1].decode("latin-1").split(",")[-1].strip()
            if claimed:
                return claimed[:64]
    client = scope.get("client")
    return client[0] if client else "unknown"


def provide_current_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """The `current_user` dependency: the caller of a route that needs a token (the JWT middleware checked it)."""
    user = request.user
    if not isinstance(user, CurrentUser):  # only reachable on a route excluded from auth: a wiring bug
        from litestar.exceptions import NotAuthorizedException

        raise NotAuthorizedException("this needs a bearer token")
    return user


# Handlers take `current_user: CurrentUserDep` (wired in app.py) instead of reading request.user themselves.
CurrentUserDep: TypeAlias = NamedDependency[CurrentUser]
