"""EPCIS capture: a document becomes a job; each event is stored once per (partner, eventID), and events
about batches we know join their hash chains (and so the transparency log) through `batches.events`.

The job runs in the background (an asyncio task of the app, `run_capture`); a restart resumes jobs
left running, which is safe because capturing an event twice changes nothing.
"""

import asyncio
import logging
import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec

from service.core.db import borrow
from service.core.errors import Forbidden, InvalidInput, NotFound, ServiceError, problem_type
from service.partners.schemas import Partner
from service.traceability.batches import events as chain
from service.traceability.batches import queries as bq
from service.traceability.batches import vocab
from service.traceability.batches.chain import plain_decimal
from service.traceability.epcis import queries as q
from service.traceability.epcis.event_hash import event_hash_id, pre_hash_string
from service.traceability.epcis.schemas import CaptureError, CaptureJobRead
from service.traceability.epcis.validation import document_errors
from service.traceability.identifiers.digital_link import DigitalLinkError, parse_digital_link, parse_short_link
from service.traceability.identifiers.gs1 import GS1Error, normalize_gtin

log = logging.getLogger("service.epcis")

MAX_EVENTS = 500
PARTNER_RESERVED_STEPS = frozenset({"commissioning", "decommissioning"})
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
EPC_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_VOCAB_PREFIX = re.compile(
    r"^(?:https?://(?:ref|ns)\.gs1\.org/cbv/(?:BizStep|Disp)-|urn:epcglobal:cbv:(?:bizstep|disp):)([a-z_]+)$"
)
_EPC_URN = re.compile(r"^urn:epc:(?:id:sgtin|class:lgtin):(\d{6,12})\.(\d{1,7})\.(.+)$")


def normal_term(value: str | None) -> str | None:
    """A CBV bizStep or disposition as the bare word the chain stores (any of GS1's spellings); other URIs as given."""
    if value is None:
        return None
    found = _VOCAB_PREFIX.match(value)
    return found.group(1) if found else value


def event_uris(event: dict[str, Any]) -> list[str]:
    """Every instance and class identifier an event names (EPCs, parentID, quantity elements' epcClass)."""
    uris: set[str] = set()
    for field in EPC_FIELDS:
        uris.update(str(e) for e in event.get(field) or [])
    if isinstance(event.get("parentID"), str):
        uris.add(event["parentID"])
    for field in QUANTITY_FIELDS:
        for element in event.get(field) or []:
            if isinstance(element, dict) and isinstance(element.get("epcClass"), str):
                uris.add(element["epcClass"])
    return sorted(uris)


class BatchKeys:
    """What identifiers can name a batch: (GTIN, lot), a short code, a unit's serial."""

    def __init__(self) -> None:
        self.lots: list[tuple[str, str]] = []
        self.codes: list[str] = []
        self.serials: list[str] = []

    def add(self, uri: str) -> None:
        urn = _EPC_URN.match(uri)
        try:
            if urn:  # GS1 EPC URN: company prefix . indicator+item reference . lot or serial
                prefix, item, value = urn.groups()
                body = item[:1] + prefix + item[1:]
                gtin = normalize_gtin(body + _check_digit(body))
                if uri.startswith("urn:epc:class:"):
                    self.lots.append((gtin, value))
                return
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https"):
                return
            if "/01/" in parts.path:
                link = parse_digital_link(parts.path[parts.path.index("/01/") :])
                if link.serial is not None:
                    self.serials.append(link.serial)
                elif link.lot is not None:
                    self.lots.append((link.gtin, link.lot))
            elif "/q/" in parts.path:
                short = parse_short_link(parts.path[parts.path.index("/q/") :])
                (self.serials.append(short.serial) if short.serial else self.codes.append(short.code))
        except (DigitalLinkError, GS1Error, ValueError):
            return  # not one of ours: stored, joins no chain


def _check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


async def start_capture(
    conn: asyncpg.Connection, partner: Partner, document: Any, behaviour: str
) -> tuple[q.StoredJob, bool]:
    """Validate (off the loop) and record the job; (job, whether it still has to run)."""
    if not isinstance(document, dict):
        raise InvalidInput("the body is not an EPCISDocument (a JSON object)", code="not_an_epcis_document")
    event_list = (
        (document.get("epcisBody") or {}).get("eventList") if isinstance(document.get("epcisBody"), dict) else None
    )
    if isinstance(event_list, list) and len(event_list) > MAX_EVENTS:
        raise ServiceError(
            f"a capture holds at most {MAX_EVENTS} events; this one has {len(event_list)}: send it in parts",
            code="too_many_events",
            status=413,
        )
    top, per_event = await asyncio.to_thread(document_errors, document)
    if top or document.get("type") != "EPCISDocument" or not isinstance(event_list, list):
        raise InvalidInput(
            "the document does not match the EPCIS 2.0 schema: " + "; ".join(top[:5] or ["type is not EPCISDocument"]),
            code="epcis_schema_invalid",
        )
    errors = [
        CaptureError(
            event_index=i, event_id=_event_id(event_list[i]), code="epcis_schema_invalid", detail="; ".join(m[:3])
        )
        for i, m in sorted(per_event.items())
    ]
    failed = bool(errors) and (behaviour == "rollback" or len(per_event) == len(event_list))
    stored = await q.insert_job(
        conn,
        partner.partner_id,
        partner.client_id,
        behaviour=behaviour,
        event_count=len(event_list),
        document=None if failed else document,
        status="failed" if failed else "running",
        errors=[_error_dict(e) for e in errors],
    )
    return stored, not failed


def _event_id(event: Any) -> str | None:
    value = event.get("eventID") if isinstance(event, dict) else None
    return value if isinstance(value, str) else None


def _error_dict(error: CaptureError) -> dict[str, Any]:
    return {"event_index": error.event_index, "event_id": error.event_id, "code": error.code, "detail": error.detail}


ERROR_TITLE = "Sự kiện không được ghi nhận / Event not captured"


def _problem(stored: dict[str, Any]) -> CaptureError:
    """A stored per-event error as the REST binding lists it: an RFC 7807 problem with type and title."""
    error = CaptureError(**stored)
    return msgspec.structs.replace(error, type=problem_type(error.code), title=ERROR_TITLE)


def job_read(job: q.StoredJob) -> CaptureJobRead:
    return CaptureJobRead(
        capture_id=job.id,
        status=job.status,  # type: ignore[arg-type]  # constrained by the table's check
        running=job.status == "running",
        success=job.status == "succeeded" and not job.errors,
        capture_error_behaviour=job.error_behaviour,  # type: ignore[arg-type]
        event_count=job.event_count,
        captured=job.captured,
        duplicates=job.duplicates,
        errors=[_problem(e) for e in job.errors],
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


async def capture_job(conn: asyncpg.Connection, partner: Partner, job_id: uuid.UUID) -> CaptureJobRead:
    found = await q.job(conn, job_id)
    if found is None or found.partner_id != partner.partner_id:
        raise NotFound("no capture job with this id", code="capture_not_found")
    return job_read(found)


class _RollBack(Exception):
    """Leave the job's outer transaction without keeping anything (GS1-Capture-Error-Behaviour: rollback)."""


async def capture_event(
    conn: asyncpg.Connection, partner: Partner, capture_id: uuid.UUID, event: dict[str, Any], base_url: str
) -> bool:
    """Store one event (False: this partner sent it before) and join the chains of the batches it names."""
    pre_hash = pre_hash_string(event)
    hash_id = event_hash_id(pre_hash)
    event_id = _event_id(event) or hash_id
    body = {**event, "eventID": event_id}
    body.pop("recordTime", None)
    error_declared = "errorDeclaration" in event
    uris = event_uris(event)
    keys = BatchKeys()
    for uri in uris:
        keys.add(uri)
    batch_ids = await q.batches_named(conn, keys.lots, keys.codes, keys.serials)
    event_time = datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00"))
    biz_step, disposition = normal_term(event.get("bizStep")), normal_term(event.get("disposition"))
    read_point = (event.get("readPoint") or {}).get("id")
    biz_location = (event.get("bizLocation") or {}).get("id")
    captured_id = await q.insert_captured(
        conn,
        q.NewCapturedEvent(
            partner_id=partner.partner_id,
            capture_id=capture_id,
            event_id=event_id,
            error_declared=error_declared,
            hash_id=hash_id,
            pre_hash=pre_hash,
            event_type=str(event.get("type")),
            event_time=event_time,
            biz_step=biz_step,
            disposition=disposition,
            read_point=read_point,
            biz_location=biz_location,
            epcs=uris,
            batch_ids=batch_ids,
            body=body,
        ),
    )
    if captured_id is None:
        return False
    if batch_ids:
        await require_held(conn, partner, batch_ids)
    if event.get("type") != "ObjectEvent" or error_declared or not batch_ids:
        return True  # other event types and error declarations are kept for queries, outside the chains
    step = partner_step(biz_step, disposition)
    when = chain.check_event_time(event_time)
    quantities = await quantities_by_batch(conn, event)
    chain_ids = []
    for batch_id in batch_ids:  # sorted: concurrent captures lock heads in one order
        locked = await bq.lock_batch(conn, batch_id, partner.partner_id)
        if locked is None:
            continue
        if locked.status == "recalled" and step not in vocab.AFTER_RECALL:
            raise InvalidInput("a batch this event names is recalled", code="batch_recalled")
        if step == "receiving" and not locked.shipped:
            raise InvalidInput("a batch is received after it was shipped", code="receiving_before_shipping")
        quantity = check_quantity(locked, quantities.get(batch_id))
        appended = await chain.append_recorded(
            conn,
            locked,
            recorded_by=None,
            read_point=read_point,
            biz_location=biz_location,
            biz_step=step,
            disposition=disposition,
            event_time=when,
            action=str(event.get("action") or "OBSERVE"),
            quantity=quantity,
            unit=None if quantity is None else locked.unit,
            details={
                "partner": {"id": str(partner.partner_id), "name": partner.name},
                "epcisEventID": event_id,
            },
        )
        chain_ids.append(appended.id)
    await q.set_chain_events(conn, captured_id, chain_ids)
    return True


async def require_held(conn: asyncpg.Connection, partner: Partner, batch_ids: list[uuid.UUID]) -> None:
    """A partner adds events only to our batches it holds (handed to it by their producer)."""
    held = await q.held_batches(conn, partner.partner_id, batch_ids)
    if any(b not in held for b in batch_ids):
        raise Forbidden(
            "this event names a batch of ours that was not handed to you: ask its producer to grant it",
            code="batch_not_held",
        )


def partner_step(biz_step: str | None, disposition: str | None) -> str:
    """The rules of the API's own events: a CBV step or a URI; commissioning, inspections and recalls are
    recorded here by producers and authorities, never by a partner."""
    step = biz_step or "other"
    if not vocab.valid_step(step):
        raise InvalidInput(f"'{step[:60]}' is not a CBV 2.0 bizStep or a URI", code="invalid_biz_step")
    if disposition is not None and not vocab.valid_disposition(disposition):
        raise InvalidInput(f"'{disposition[:60]}' is not a CBV 2.0 disposition or a URI", code="invalid_disposition")
    if vocab.is_official(step, disposition) or step in PARTNER_RESERVED_STEPS:
        raise InvalidInput(
            "inspections, recalls and commissioning of our batches are recorded by authorities and producers here",
            code="reserved_step",
        )
    return step


async def quantities_by_batch(
    conn: asyncpg.Connection, event: dict[str, Any]
) -> dict[uuid.UUID, tuple[Decimal, str | None]]:
    """(quantity, uom) the event's quantityList gives each of our batches, summed; one uom per batch."""
    found: dict[uuid.UUID, tuple[Decimal, str | None]] = {}
    for element in event.get("quantityList") or []:
        if not isinstance(element, dict) or "quantity" not in element:
            continue
        keys = BatchKeys()
        keys.add(str(element.get("epcClass")))
        uom = element.get("uom")
        for batch_id in await q.batches_named(conn, keys.lots, keys.codes, keys.serials):
            before, before_uom = found.get(batch_id, (Decimal(0), uom))
            if before_uom != uom:
                raise InvalidInput("one batch is counted in one unit within an event", code="unit_mismatch")
            found[batch_id] = (before + Decimal(str(element["quantity"])), uom)
    return found


def check_quantity(locked: bq.LockedBatch, given: tuple[Decimal, str | None] | None) -> Decimal | None:
    """Like an event recorded through the API: the batch's own unit, no more than what exists of it."""
    if given is None:
        return None
    quantity, uom = given
    expected = vocab.UOM.get(locked.unit, locked.unit)
    if uom not in (expected, locked.unit):
        raise InvalidInput(f"this batch is counted in {locked.unit} (uom {expected})", code="unit_mismatch")
    if quantity > locked.quantity_available:
        raise InvalidInput(
            f"only {plain_decimal(locked.quantity_available)} {locked.unit} of this batch exist",
            code="quantity_exceeds_available",
        )
    return quantity


async def process(
    conn: asyncpg.Connection, partner: Partner, job: q.StoredJob, document: dict[str, Any], base_url: str
) -> None:
    events: list[Any] = document["epcisBody"]["eventList"]
    errors = [CaptureError(**e) for e in job.errors]
    skip = {e.event_index for e in errors}
    captured = duplicates = 0
    try:
        async with conn.transaction():
            for index, event in enumerate(events):
                if index in skip:
                    continue
                try:
                    async with conn.transaction():  # a savepoint: a failed event leaves nothing behind
                        if await capture_event(conn, partner, job.id, event, base_url):
                            captured += 1
                        else:
                            duplicates += 1
                except ServiceError as exc:
                    errors.append(
                        CaptureError(event_index=index, event_id=_event_id(event), code=exc.code, detail=exc.detail)
                    )
            if errors and job.error_behaviour == "rollback":
                raise _RollBack
    except _RollBack:
        captured = duplicates = 0
    await bq.log_pending_heads(conn)  # the job reports success once its heads are in the log
    failed = bool(errors) and (job.error_behaviour == "rollback" or captured + duplicates == 0)
    await q.finish_job(
        conn,
        job.id,
        status="failed" if failed else "succeeded",
        captured=captured,
        duplicates=duplicates,
        errors=[_error_dict(e) for e in errors],
    )


async def run_capture(pool: asyncpg.Pool, partner: Partner, job_id: uuid.UUID, base_url: str) -> None:
    """The background half of a capture; any unexpected failure ends the job as failed, logged."""
    async with borrow(pool) as conn:
        try:
            stored = await q.job(conn, job_id)
            document = await q.job_document(conn, job_id)
            if stored is None or document is None:
                return
            await process(conn, partner, stored, document, base_url)
        except Exception:
            log.exception("capture job %s failed", job_id)
            await q.finish_job(
                conn,
                job_id,
                status="failed",
                captured=0,
                duplicates=0,
                errors=[{"event_index": None, "code": "internal_error", "detail": "the capture failed on our side"}],
            )
