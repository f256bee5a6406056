"""The tamper-evident event chain: canonical serialisation and SHA-256 links.

Canonical form: the event's recorded fields (not record_time, which the database stamps) as a JSON
object encoded by msgspec with keys sorted at every level, no whitespace, UTF-8; uuids as lower-case
strings, times as ISO 8601 in +07:00 with microseconds, quantities as plain decimal strings without
exponent or trailing zeros. hash = sha256(canonical || prev_hash as ASCII hex). The first event's
prev_hash is 64 zeros.
"""

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from service.core import clock

GENESIS_HASH = "0" * 64


class ChainedEvent(msgspec.Struct, kw_only=True):
    """The fields the hash covers, exactly as stored in the events table."""

    id: uuid.UUID
    batch_id: uuid.UUID
    seq: int
    event_type: str
    action: str | None
    biz_step: str
    disposition: str | None
    event_time: datetime
    event_time_zone_offset: str
    read_point: str | None
    biz_location: str | None
    quantity: Decimal | None
    unit: str | None
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    details: dict[str, Any]
    recorded_by: uuid.UUID | None


HASHED_COLUMNS = (
    "id, batch_id, seq, event_type, action, biz_step, disposition, event_time, event_time_zone_offset, "
    "read_point, biz_location, quantity, unit, inputs, outputs, details, recorded_by"
)


def plain_decimal(value: Decimal) -> str:
    """1.50 -> "1.5", 1E+2 -> "100": one spelling per number."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def local_time(value: datetime) -> str:
    return value.astimezone(clock.VN_TZ).isoformat(timespec="microseconds")


def canonical(event: ChainedEvent) -> bytes:
    body = {
        "id": str(event.id),
        "batch_id": str(event.batch_id),
        "seq": event.seq,
        "event_type": event.event_type,
        "action": event.action,
        "biz_step": event.biz_step,
        "disposition": event.disposition,
        "event_time": local_time(event.event_time),
        "event_time_zone_offset": event.event_time_zone_offset,
        "read_point": event.read_point,
        "biz_location": event.biz_location,
        "quantity": None if event.quantity is None else plain_decimal(event.quantity),
        "unit": event.unit,
        "inputs": event.inputs,
        "outputs": event.outputs,
        "details": event.details,
        "recorded_by": None if event.recorded_by is None else str(event.recorded_by),
    }
    return msgspec.json.encode(body, order="sorted")


def event_hash(event: ChainedEvent, prev_hash: str) -> str:
    return hashlib.sha256(canonical(event) + prev_hash.encode("ascii")).hexdigest()
