"""EPCIS 2.0 export: a batch's events plus those of its direct inputs and outputs, as an EPCISDocument."""

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import asyncpg
import msgspec

from service.traceability.batches.chain import local_time
from service.traceability.batches.queries import EVENT_COLUMNS
from service.traceability.batches.schemas import EventRead
from service.traceability.batches.vocab import UOM, is_official

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EPCIS_MEDIA_TYPE = "application/ld+json"


class BatchIds:
    """What a batch is called in EPCIS: its class URI, and who speaks for it (its producer)."""

    __slots__ = ("code", "gtin14", "lot", "producer")

    def __init__(self, gtin14: str | None, lot: str, code: str, producer: str = "") -> None:
        self.gtin14, self.lot, self.code, self.producer = gtin14, lot, code, producer

    def class_uri(self, base_url: str) -> str:
        """GS1 Digital Link on id.gs1.org where a GTIN exists; else the service's own /q/{code}."""
        if self.gtin14:
            return f"https://id.gs1.org/01/{self.gtin14}/10/{quote(self.lot, safe='')}"
        return f"{base_url}/q/{self.code}"


async def lineage(conn: asyncpg.Connection, batch_id: uuid.UUID) -> list[uuid.UUID]:
    """The batch, its direct inputs (one step back) and outputs (one step forward)."""
    rows = await conn.fetch(
        """
        select $1::uuid as id
        union select input_batch_id from batch_links where output_batch_id = $1
        union select output_batch_id from batch_links where input_batch_id = $1
        """,
        batch_id,
    )
    return [r["id"] for r in rows]


async def export_rows(
    conn: asyncpg.Connection, batch_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, BatchIds], list[EventRead]]:
    names = await conn.fetch(
        "select b.id, b.lot, b.code, p.gtin14, o.name as producer from batches b "
        "join products p on p.id = b.product_id join organizations o on o.id = b.organization_id "
        "where b.id = any($1::uuid[])",
        batch_ids,
    )
    rows = await conn.fetch(
        f"select {EVENT_COLUMNS} from events where batch_id = any($1::uuid[]) order by event_time, batch_id, seq",  # noqa: S608
        batch_ids,
    )
    ids = {r["id"]: BatchIds(r["gtin14"], r["lot"], r["code"], r["producer"]) for r in names}
    return ids, msgspec.convert([dict(r) for r in rows], list[EventRead])


def claimed_by(event: EventRead, ids: dict[uuid.UUID, BatchIds]) -> dict[str, str]:
    """`tt:claimedBy`: an inspection or recall is verified by the authority named in its (hashed) details;
    anything else is declared by the batch's producer."""
    partner = event.details.get("partner")
    if isinstance(partner, dict) and not is_official(event.biz_step, event.disposition):
        # captured through /epcis/capture: the partner's word, not the producer's
        return {"tt:kind": "declared", "tt:role": "partner", "tt:name": str(partner.get("name", ""))}
    if is_official(event.biz_step, event.disposition):
        claim = {"tt:kind": "verified", "tt:role": "authority"}
        authority = event.details.get("authority")
        name = authority.get("name") if isinstance(authority, dict) else None
    else:
        claim = {"tt:kind": "declared", "tt:role": "producer"}
        batch = ids.get(event.batch_id)
        name = batch.producer if batch else None
    if name:  # events recorded before authorities existed name none
        claim["tt:name"] = str(name)
    return claim


def _quantity(uri: str, quantity: Any, unit: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": uri}
    if quantity is not None:
        element["quantity"] = float(quantity)
        uom = UOM.get((unit or "").strip().lower())
        if uom:
            element["uom"] = uom
    return element


def epcis_event(event: EventRead, ids: dict[uuid.UUID, BatchIds], base_url: str) -> dict[str, Any]:
    def uri(batch_id: str | uuid.UUID) -> str:
        key = uuid.UUID(str(batch_id))
        found = ids.get(key)
        return found.class_uri(base_url) if found else f"{base_url}/api/v1/batches/{key}"

    out: dict[str, Any] = {
        "type": event.event_type,
        "eventID": f"urn:uuid:{event.id}",
        "eventTime": local_time(event.event_time),
        "eventTimeZoneOffset": event.event_time_zone_offset,
        "recordTime": event.record_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    if event.event_type == "TransformationEvent":
        out["inputQuantityList"] = [_quantity(uri(i["batch_id"]), i["quantity"], i["unit"]) for i in event.inputs]
        out["outputQuantityList"] = [_quantity(uri(o["batch_id"]), o["quantity"], o["unit"]) for o in event.outputs]
        out["transformationID"] = f"urn:uuid:{event.id}"
    else:
        out["action"] = event.action or "OBSERVE"
        out["epcList"] = []
        out["quantityList"] = [_quantity(uri(event.batch_id), event.quantity, event.unit)]
    out["bizStep"] = event.biz_step
    if event.disposition:
        out["disposition"] = event.disposition
    if event.read_point:
        out["readPoint"] = {"id": event.read_point}
    if event.biz_location:
        out["bizLocation"] = {"id": event.biz_location}
    if event.seq == 1:
        batch = ids.get(event.batch_id)
        if batch is not None:
            out["ilmd"] = {"cbvmda:lotNumber": batch.lot}
    for name, value in sorted(event.details.items()):
        out[f"tt:{name}"] = value
    out["tt:claimedBy"] = claimed_by(event, ids)
    out["tt:hash"] = event.hash
    out["tt:prevHash"] = event.prev_hash
    return out


def epcis_document(events: list[EventRead], ids: dict[uuid.UUID, BatchIds], base_url: str) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT, {"tt": f"{base_url}/ns/epcis#"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "epcisBody": {"eventList": [epcis_event(e, ids, base_url) for e in events]},
    }


async def export_batch(conn: asyncpg.Connection, batch_id: uuid.UUID, base_url: str) -> dict[str, Any]:
    """The caller checked access to the batch; its neighbours are shown only as far as their events go."""
    batch_ids = await lineage(conn, batch_id)
    ids, events = await export_rows(conn, batch_ids)
    return epcis_document(events, ids, base_url)
