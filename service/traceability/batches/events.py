"""Appending to a batch's history: order rules, the chain head lock, inspections, recalls, verification."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from service.auth.schemas import CurrentUser
from service.core import clock
from service.core.errors import Conflict, InvalidInput, NotFound
from service.traceability import access
from service.traceability.batches import queries as eq
from service.traceability.batches import vocab
from service.traceability.batches.chain import GENESIS_HASH, ChainedEvent, event_hash, plain_decimal
from service.traceability.batches.schemas import ChainReport, EventCreate, EventRead, InspectionCreate, RecallCreate
from service.traceability.places.queries import place as place_query
from service.traceability.places.schemas import PlaceRead
from service.traceability.places.service import usable_place
from service.traceability.registry.checks import check_quantity

CLOCK_SKEW = timedelta(minutes=5)


def check_event_time(value: datetime | None) -> datetime:
    """Event times are aware; naive times are taken as Vietnam time; the future is refused."""
    now = datetime.now(UTC)
    if value is None:
        return now.astimezone(clock.VN_TZ)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.VN_TZ)
    if value > now + CLOCK_SKEW:
        raise InvalidInput("event_time is in the future", code="event_in_future")
    if value.year < 2000:
        raise InvalidInput("event_time is before 2000", code="event_too_early")
    return value.astimezone(clock.VN_TZ)


def place_uri(base_url: str, place_id: uuid.UUID) -> str:
    return f"{base_url}/api/v1/places/{place_id}"


def locations(base_url: str, org_id: uuid.UUID, plot_id: uuid.UUID | None) -> tuple[str, str]:
    """(readPoint, bizLocation) as URIs of this service: the plot where known, else the producer."""
    org_uri = f"{base_url}/api/v1/producers/{org_id}"
    return (f"{base_url}/api/v1/plots/{plot_id}" if plot_id else org_uri), org_uri


async def lock_for_write(
    conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, *, step: str, any_org: bool = False
) -> eq.LockedBatch:
    """Lock the chain head; members (or admins, or inspectors when any_org) only; recalled batches are frozen."""
    locked = await eq.lock_batch(conn, batch_id, user.id)
    allowed = locked is not None and (
        locked.mine or user.role == "admin" or (any_org and access.is_reader_of_all(user))
    )
    if locked is None or not allowed:
        raise NotFound("no batch with this id", code="batch_not_found")
    if locked.status == "recalled" and step not in vocab.AFTER_RECALL:
        raise Conflict("this batch is recalled: only inspecting or destroying may follow", code="batch_recalled")
    return locked


async def append(
    conn: asyncpg.Connection,
    locked: eq.LockedBatch,
    user: CurrentUser,
    base_url: str,
    *,
    biz_step: str,
    disposition: str | None,
    event_time: datetime,
    action: str = "OBSERVE",
    quantity: Any = None,
    unit: str | None = None,
    details: dict[str, Any] | None = None,
    biz_location: str | None = None,
) -> EventRead:
    """Link the event to the head the caller locked, insert it, and move the head.

    biz_location overrides the producer's URI when the event names a place from the register.
    """
    read_point, default_location = locations(base_url, locked.organization_id, locked.plot_id)
    return await append_recorded(
        conn,
        locked,
        recorded_by=user.id,
        read_point=read_point,
        biz_location=biz_location or default_location,
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        action=action,
        quantity=quantity,
        unit=unit,
        details=details,
    )


async def append_recorded(
    conn: asyncpg.Connection,
    locked: eq.LockedBatch,
    *,
    recorded_by: uuid.UUID | None,
    read_point: str | None,
    biz_location: str | None,
    biz_step: str,
    disposition: str | None,
    event_time: datetime,
    action: str = "OBSERVE",
    quantity: Any = None,
    unit: str | None = None,
    details: dict[str, Any] | None = None,
) -> EventRead:
    """`append` for any recorder: a partner's captured EPCIS event names its own places and no user."""
    if locked.first_time is not None and event_time < locked.first_time:
        raise InvalidInput("this event is dated before the batch was commissioned", code="event_before_commissioning")
    event = ChainedEvent(
        id=uuid.uuid4(),
        batch_id=locked.id,
        seq=locked.last_seq + 1,
        event_type="ObjectEvent",
        action=action,
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        event_time_zone_offset=clock.VN_OFFSET,
        read_point=read_point,
        biz_location=biz_location,
        quantity=quantity,
        unit=unit,
        inputs=[],
        outputs=[],
        details=details or {},
        recorded_by=recorded_by,
    )
    hash_ = event_hash(event, locked.last_hash)
    created = await eq.insert_event(conn, event, locked.last_hash, hash_)
    await eq.advance_head(conn, locked.id, event.seq, hash_)
    return created


def check_step(data: EventCreate) -> tuple[str, str | None]:
    step = data.biz_step.strip()
    if not vocab.valid_step(step):
        raise InvalidInput(
            f"'{step[:60]}' is not a CBV 2.0 bizStep; an invented step must be a URI", code="invalid_biz_step"
        )
    if step == "commissioning":
        raise Conflict("a batch is commissioned once, when it is registered", code="already_commissioned")
    if step == "inspecting":
        raise InvalidInput("inspections go through POST /api/v1/batches/{id}/inspections", code="use_inspections")
    disposition = data.disposition.strip() if data.disposition else vocab.DEFAULT_DISPOSITION.get(step)
    if disposition is not None and not vocab.valid_disposition(disposition):
        raise InvalidInput(f"'{disposition[:60]}' is not a CBV 2.0 disposition or a URI", code="invalid_disposition")
    if disposition == "recalled":
        raise InvalidInput("recalls go through POST /api/v1/batches/{id}/recall", code="use_recall")
    return step, disposition


def place_detail(place: PlaceRead) -> dict[str, str]:
    """The place's name as it was, inside the hashed details; the page shows the register's current names."""
    return {"id": str(place.id), "name": place.names["vi"]}


async def inspected_place(conn: asyncpg.Connection, place_id: uuid.UUID, organization_id: uuid.UUID) -> PlaceRead:
    """A place an inspection may name: the inspected batch's organization's, or its cooperative's."""
    found = await place_query(conn, place_id)
    if found is None:
        raise InvalidInput("no place with this id", code="place_not_found")
    if found.organization_id != organization_id and not await eq.is_parent_of(
        conn, found.organization_id, organization_id
    ):
        raise InvalidInput("this place belongs to another organization than the batch", code="place_not_of_batch")
    return found


async def append_event(
    conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, data: EventCreate, base_url: str
) -> EventRead:
    step, disposition = check_step(data)
    event_time = check_event_time(data.event_time)
    if (data.quantity is None) != (data.unit is None):
        raise InvalidInput("give quantity and unit together", code="incomplete_quantity")
    if data.quantity is not None:
        check_quantity(data.quantity)
    details: dict[str, Any] = {}
    if data.notes:
        details["notes"] = data.notes
    if data.photos:
        details["photos"] = [str(p) for p in data.photos]
    if data.destination:
        details["destination"] = data.destination
    async with conn.transaction():
        locked = await lock_for_write(conn, user, batch_id, step=step)
        biz_location = None
        if data.place_id is not None:
            place = await usable_place(conn, user, data.place_id)
            details["place"] = place_detail(place)
            biz_location = place_uri(base_url, place.id)
        if data.quantity is not None and data.unit is not None:
            if data.unit.strip() != locked.unit:
                raise InvalidInput(f"this batch is counted in {locked.unit}", code="unit_mismatch")
            if data.quantity > locked.quantity_available:
                raise InvalidInput(
                    f"only {plain_decimal(locked.quantity_available)} {locked.unit} of this batch exist",
                    code="quantity_exceeds_available",
                )
        if step == "receiving" and not locked.shipped:
            raise InvalidInput("a batch is received after it was shipped", code="receiving_before_shipping")
        event = await append(
            conn,
            locked,
            user,
            base_url,
            biz_step=step,
            disposition=disposition,
            event_time=event_time,
            quantity=data.quantity,
            unit=None if data.unit is None else data.unit.strip(),
            details=details,
            biz_location=biz_location,
        )
    await eq.log_pending_heads(conn)
    return event


def authority_detail(authority: access.ActingAuthority) -> dict[str, str]:
    """Who an official event speaks for, inside the hashed details: attributable and tamper-evident."""
    return {"id": str(authority.id), "name": authority.name}


async def record_inspection(
    conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, data: InspectionCreate, base_url: str
) -> EventRead:
    event_time = check_event_time(data.event_time)
    details: dict[str, Any] = {"result": data.result}
    if data.notes:
        details["notes"] = data.notes
    if data.photos:
        details["photos"] = [str(p) for p in data.photos]
    async with conn.transaction():
        details["authority"] = authority_detail(await access.acting_authority(conn, user))
        locked = await lock_for_write(conn, user, batch_id, step="inspecting", any_org=True)
        biz_location = None
        if data.place_id is not None:
            place = await inspected_place(conn, data.place_id, locked.organization_id)
            details["place"] = place_detail(place)
            biz_location = place_uri(base_url, place.id)
        if locked.phi_violation and data.result == "conformant":
            raise InvalidInput(
                "this batch was harvested inside a pesticide's pre-harvest interval: it cannot be conformant",
                code="phi_violation",
            )
        event = await append(
            conn,
            locked,
            user,
            base_url,
            biz_step="inspecting",
            disposition=data.result,
            event_time=event_time,
            details=details,
            biz_location=biz_location,
        )
    await eq.log_pending_heads(conn)
    return event


async def recall_batch(
    conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, data: RecallCreate, base_url: str
) -> EventRead:
    async with conn.transaction():
        authority = await access.acting_authority(conn, user)
        locked = await lock_for_write(conn, user, batch_id, step="holding", any_org=True)
        now = check_event_time(None)
        event = await append(
            conn,
            locked,
            user,
            base_url,
            biz_step="holding",
            disposition="recalled",
            event_time=now,
            details={"reason": data.reason.strip(), "authority": authority_detail(authority)},
        )
        await eq.mark_recalled(conn, batch_id, data.reason.strip(), now)
    await eq.log_pending_heads(conn)
    return event


async def batch_events(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID) -> list[EventRead]:
    found = await eq.batch(conn, batch_id)
    if found is None:
        raise NotFound("no batch with this id", code="batch_not_found")
    await access.require_readable(conn, user, found.organization_id, "batch")
    return await eq.events_of(conn, batch_id)


async def verify_chain(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID) -> ChainReport:
    """Recompute every hash in order; report the first event whose link or content does not match."""
    found = await eq.batch(conn, batch_id)
    if found is None:
        raise NotFound("no batch with this id", code="batch_not_found")
    await access.require_readable(conn, user, found.organization_id, "batch")
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        events = await eq.events_of(conn, batch_id)
        head = await eq.batch_head(conn, batch_id)
    return check_chain(batch_id, events, head)


def check_chain(batch_id: uuid.UUID, events: list[EventRead], head: tuple[int, str] | None) -> ChainReport:
    """Recompute every hash in order (pure: the shopper page's derived claim uses it too)."""
    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        reason = None
        if event.seq != expected_seq:
            reason = f"event {expected_seq} is missing"
        elif event.prev_hash != prev:
            reason = "prev_hash does not match the previous event's hash"
        else:
            recomputed = event_hash(
                ChainedEvent(**{f: getattr(event, f) for f in ChainedEvent.__struct_fields__}), prev
            )
            if recomputed != event.hash:
                reason = "the event's content does not match its hash"
        if reason is not None:
            return ChainReport(
                batch_id=batch_id,
                valid=False,
                events=len(events),
                first_broken_seq=event.seq,
                first_broken_event_id=event.id,
                reason=reason,
            )
        prev = event.hash
    if head is not None and (head[0] != len(events) or head[1] != prev):
        return ChainReport(
            batch_id=batch_id,
            valid=False,
            events=len(events),
            first_broken_seq=len(events) + 1 if head[0] > len(events) else None,
            reason="the batch's recorded chain head does not match its last event",
        )
    return ChainReport(batch_id=batch_id, valid=True, events=len(events))
