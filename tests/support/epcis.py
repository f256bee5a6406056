"""EPCIS helpers: partners and clients through the admin API, documents, waiting for capture jobs, the schema."""

import asyncio
import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from jsonschema import Draft7Validator

from tests.standards import STANDARDS
from tests.support.factories import Client

SCHEMA_PATH = STANDARDS / "epcis" / "EPCIS-JSON-Schema.json"
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def official_validator() -> Draft7Validator:
    """The tests' own copy of GS1's schema (not the service's), formats checked."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_errors(validator: Draft7Validator, document: Any) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)][:5]


VN = timezone(timedelta(hours=7))


def moments(count: int, start: datetime | None = None) -> list[str]:
    """Event times a few seconds apart from now (batches are commissioned when registered; the future is
    refused past 5 minutes), as EPCIS writes them (+07:00, seconds)."""
    base = (start or datetime.now(VN)).replace(microsecond=0) + timedelta(seconds=2)
    return [(base + timedelta(seconds=5 * i)).isoformat() for i in range(count)]


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def partner_client(
    client: Client,
    admin: dict[str, str],
    name: str = "Siêu thị Xanh",
    scopes: tuple[str, ...] = ("capture", "query"),
    holds: tuple[tuple[dict[str, str], dict[str, Any]], ...] = (),
) -> tuple[dict[str, Any], dict[str, str]]:
    """A partner and one API client made through the admin API, handed the batches in `holds` by their
    producers ((producer headers, batch) pairs); (the client as created, its Basic headers)."""
    partner = await client.post("/api/v1/admin/partners", json={"name": name}, headers=admin)
    assert partner.status_code == 201, partner.text
    created = await client.post(
        f"/api/v1/admin/partners/{partner.json()['id']}/clients", json={"scopes": list(scopes)}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = dict(created.json())
    for producer, batch in holds:
        await hand_over(client, producer, batch, body["partner_id"])
    return body, basic(body["client_id"], body["client_secret"])


async def hand_over(client: Client, producer: dict[str, str], batch: dict[str, Any], partner_id: str) -> None:
    """The producer hands a batch to a partner, which may then capture events onto it."""
    response = await client.put(f"/api/v1/batches/{batch['id']}/partners/{partner_id}", headers=producer)
    assert response.status_code == 200, response.text


def receiving(epc_class: str, at: str, **extra: Any) -> dict[str, Any]:
    """A supermarket's receiving ObjectEvent of a lot, at its own store."""
    return {
        "type": "ObjectEvent",
        "eventTime": at,
        "eventTimeZoneOffset": "+07:00",
        "epcList": [],
        "quantityList": [{"epcClass": epc_class, "quantity": 40, "uom": "KGM"}],
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "readPoint": {"id": "https://id.gs1.org/414/8930000000507"},
        "bizLocation": {"id": "https://id.gs1.org/414/8930000000507"},
    } | extra


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-06-10T08:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


async def captured(
    client: Client, headers: dict[str, str], doc: dict[str, Any], **extra_headers: str
) -> dict[str, Any]:
    """POST /epcis/capture, then follow the job until it is no longer running; the finished job."""
    response = await client.post("/epcis/capture", json=doc, headers=headers | extra_headers)
    assert response.status_code == 202, response.text
    job = dict(response.json())
    location = response.headers["location"].removeprefix("https://trace.example.vn")
    for _ in range(200):
        if not job["running"]:
            return job
        await asyncio.sleep(0.05)
        polled = await client.get(location, headers=headers)
        assert polled.status_code == 200, polled.text
        job = dict(polled.json())
    raise AssertionError(f"capture job still running: {job}")
