"""What the scan-side routes share: one operation id per method, identifier parsing that answers 400, stale marks."""

import time
from typing import Any

from service.core.errors import ServiceError
from service.traceability.identifiers.digital_link import DigitalLinkError


def per_method(name: str) -> Any:
    """GET and HEAD share a handler; OpenAPI wants one operation id per method."""

    def operation_id(handler: Any, method: str, path: Any) -> str:
        return name if method.upper() == "GET" else f"{name}_{method.lower()}"

    return operation_id


class BadIdentifier(ServiceError):
    status, code, title = 400, "invalid_digital_link", "Invalid identifier"


def _parse(parser: Any, *args: str) -> Any:
    try:
        return parser(*args)
    except DigitalLinkError as exc:
        raise BadIdentifier(exc.detail, code=exc.code) from exc


def stale_headers(as_of: float | None) -> dict[str, str]:
    """RFC 5861 stale-if-error: an answer from memory while the database is away says so and how old it is."""
    if as_of is None:
        return {}
    return {"Warning": '110 - "Response is Stale"', "Age": str(max(0, int(time.time() - as_of)))}
