"""Token -> CurrentUser, the JWT backend, role guards and the caller's address."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeAlias

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.security.jwt import JWTAuth, Token

from service.auth.schemas import CurrentUser, Role
from service.settings import Settings


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


def provide_current_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """The `current_user` dependency: the caller of a route that needs a token (the JWT middleware checked it)."""
    user = request.user
    if not isinstance(user, CurrentUser):  # only reachable on a route excluded from auth: a wiring bug
        from litestar.exceptions import NotAuthorizedException

        raise NotAuthorizedException("this needs a bearer token")
    return user


# Handlers take `current_user: CurrentUserDep` (wired in app.py) instead of reading request.user themselves.
CurrentUserDep: TypeAlias = NamedDependency[CurrentUser]
