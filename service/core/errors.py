"""One base error and one family of handlers: every error leaves as RFC 9457 problem+json."""

import logging
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from service.core.observability import current_request_id

log = logging.getLogger("service.errors")

PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, plus a stable machine-readable code."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class ServiceError(Exception):
    """Base of every error the services raise; routes let it through to the handler."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.errors = errors
        self.headers = headers or {}


class InvalidInput(ServiceError):
    status, code, title = 422, "invalid_input", "Invalid input"


class NotFound(ServiceError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(ServiceError):
    status, code, title = 409, "conflict", "Conflict"


class Forbidden(ServiceError):
    status, code, title = 403, "forbidden", "Forbidden"


class Unauthorized(ServiceError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class TooManyRequests(ServiceError):
    status, code, title = 429, "too_many_requests", "Too many requests"


class Unavailable(ServiceError):
    status, code, title = 503, "unavailable", "Service unavailable"


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("too_many_requests", "Too many requests"),
    500: ("internal_error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


PROBLEM_TYPES = "https://trace-tour.thainguyen.gov.vn/problems/"


def problem_type(code: str) -> str:
    """The problem type URI of a stable error code (RFC 9457 `type`)."""
    return PROBLEM_TYPES + code.replace("_", "-")


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    problem = Problem(
        type=problem_type(code),
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=request.url.path,
        request_id=current_request_id(),
        errors=errors,
    )
    return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(extra: Any) -> list[FieldError]:
    """Litestar's validation extras are dicts with message/key/source; keep what a client can act on."""
    out: list[FieldError] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                message = str(item.get("message", "invalid"))
                if key == "data" and message == "'data'":
                    key, message = "body", "a JSON request body is required"
                out.append(FieldError(field=key, message=message))
    elif isinstance(extra, dict):
        out.extend(FieldError(field=str(k), message=str(v)) for k, v in extra.items())
    return out


def handle_service_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Problem]:
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
    )


def handle_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = _field_errors(exc.extra)
    detail = exc.detail if exc.detail and not exc.detail.startswith("Validation failed") else ""
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return problem_response(
        request,
        status=400,
        code="validation_failed",
        title="Request validation failed",
        detail=detail or "the request does not match what this operation accepts",
        errors=errors or None,
    )


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    code, title = _HTTP_CODES.get(status, ("http_error", "HTTP error"))
    headers = dict(exc.headers or {})
    return problem_response(request, status=status, code=code, title=title, detail=exc.detail or title, headers=headers)


def handle_database_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.warning("database unavailable: %s", exc)
    return problem_response(
        request,
        status=503,
        code="database_unavailable",
        title="Service unavailable",
        detail="the database cannot be reached right now; try again in a few seconds",
        headers={"Retry-After": "5"},
    )


def database_unreachable(exc: BaseException) -> bool:
    """asyncpg's connection errors, or an OS-level error (refused, reset, socket gone) raised inside asyncpg.

    Any other OSError (a full disk, a missing file) is a bug or an outage of something else: a 500, logged.
    """
    if isinstance(
        exc,
        (
            asyncpg.exceptions.PostgresConnectionError,
            asyncpg.exceptions.CannotConnectNowError,
            asyncpg.exceptions.InterfaceError,
        ),
    ):
        return True
    if not isinstance(exc, OSError):
        return False
    frame = exc.__traceback__
    while frame is not None:
        if "asyncpg" in frame.tb_frame.f_code.co_filename:
            return True
        frame = frame.tb_next
    return False


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if database_unreachable(exc):
        return handle_database_down(request, exc)
    if isinstance(exc, asyncpg.exceptions.CharacterNotInRepertoireError):
        # a NUL character (\u0000) anywhere in a text: PostgreSQL text cannot hold it, whatever the route
        return problem_response(
            request,
            status=400,
            code="invalid_character",
            title="Bad request",
            detail="the request contains a character that cannot be stored (NUL, \\u0000); remove it",
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        title="Internal server error",
        detail="something went wrong on our side; it has been logged",
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ServiceError: handle_service_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Problem",
    "ServiceError",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "database_unreachable",
    "problem_response",
]
