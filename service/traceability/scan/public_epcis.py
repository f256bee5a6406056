"""The public, read-only EPCIS 2.0 history of a batch: what the resolver's gs1:epcis link points at.

The document comes from epcis.export_batch (the authenticated export) and is then cut down to an
allow-list of event fields: the EPCIS/CBV ones plus the few service extensions that the shopper page
already shows (destination, inspection result, recall reason, who made each claim and for which authority)
and the hash chain. Free-text notes,
photo ids and anything added to event details later stay private until someone lists them here.
"""

from typing import Any

import asyncpg

from service.core.errors import NotFound, ServiceError
from service.traceability.batches import epcis
from service.traceability.identifiers.digital_link import DigitalLinkError, ShortLink, parse_short_link
from service.traceability.scan import resolve as rs

EPCIS_EVENT_FIELDS = frozenset(
    {
        "type",
        "eventID",
        "eventTime",
        "eventTimeZoneOffset",
        "recordTime",
        "action",
        "epcList",
        "quantityList",
        "inputQuantityList",
        "outputQuantityList",
        "transformationID",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "ilmd",
    }
)
PUBLIC_EXTENSIONS = frozenset(
    {"tt:destination", "tt:result", "tt:reason", "tt:hash", "tt:prevHash", "tt:claimedBy", "tt:authority"}
)
PUBLIC_EVENT_FIELDS = EPCIS_EVENT_FIELDS | PUBLIC_EXTENSIONS


class BadCode(ServiceError):
    status, code, title = 400, "invalid_short_code", "Invalid batch code"


def public_document(document: dict[str, Any]) -> dict[str, Any]:
    """The same EPCISDocument with every event reduced to its public fields."""
    body = document["epcisBody"]
    events = [{k: v for k, v in event.items() if k in PUBLIC_EVENT_FIELDS} for event in body["eventList"]]
    return {**document, "epcisBody": {**body, "eventList": events}}


async def public_batch_document(conn: asyncpg.Connection, code: str, base_url: str) -> dict[str, Any]:
    """A batch's public EPCIS 2.0 history by its short code (its events, its direct inputs' and outputs')."""
    try:
        link = parse_short_link(f"/q/{code}")
    except DigitalLinkError as exc:
        raise BadCode(exc.detail) from exc
    target = await rs.resolve_short_link(conn, ShortLink(code=link.code))
    if target is None or target.batch_id is None:
        raise NotFound("nothing is registered under this code", code="identifier_not_found")
    return public_document(await epcis.export_batch(conn, target.batch_id, base_url))
