"""Batches: registration from phones (idempotent, first event in the same statement) and transformations."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core import clock
from service.core.errors import Conflict, InvalidInput, NotFound
from service.traceability import access
from service.traceability.batches import idempotency
from service.traceability.batches import queries as eq
from service.traceability.batches.chain import GENESIS_HASH, ChainedEvent, event_hash, plain_decimal
from service.traceability.batches.events import (
    check_event_time,
    locations,
    lock_for_write,
    place_detail,
    place_uri,
)
from service.traceability.batches.schemas import BatchCreate, BatchRead, TransformationCreate, TransformationRead
from service.traceability.identifiers.gs1 import is_gs1_text, random_code
from service.traceability.places.service import usable_place
from service.traceability.registry.checks import check_quantity

CODE_LENGTH = 13  # 65 bits


def check_batch_fields(data: BatchCreate) -> None:
    """Rules that need no database: quantity, dates, lot syntax, unit."""
    check_quantity(data.quantity)
    today = clock.today()
    if data.harvest_date is not None and data.harvest_date > today:
        raise InvalidInput("harvest_date is in the future", code="harvest_in_future")
    if data.harvest_end is not None:
        if data.harvest_date is None:
            raise InvalidInput("harvest_end needs harvest_date", code="invalid_harvest_range")
        if data.harvest_end > today:
            raise InvalidInput("harvest_end is in the future", code="harvest_in_future")
        if data.harvest_end < data.harvest_date:
            raise InvalidInput("harvest_end is before harvest_date", code="invalid_harvest_range")
    if data.lot is not None and not is_gs1_text(data.lot):
        raise InvalidInput(
            "a lot code has 1-20 characters of the GS1 set (letters, digits, - . / _ and a few more)",
            code="invalid_lot",
        )
    if data.expiry_date is not None and data.harvest_date is not None and data.expiry_date < data.harvest_date:
        raise InvalidInput("expiry_date is before harvest_date", code="invalid_expiry")
    if not data.unit.strip():
        raise InvalidInput("unit is empty", code="invalid_unit")


def new_lot(harvest: date | None) -> str:
    """e.g. L250614-7KQ2: the harvest day (or today) and four random symbols."""
    day = harvest or clock.today()
    return f"L{day:%y%m%d}-{random_code(4)}"


def build_batch(
    data: BatchCreate,
    *,
    organization_id: uuid.UUID,
    shelf_life_days: int | None,
    phi: bool,
    now: datetime,
) -> BatchRead:
    expiry = data.expiry_date
    if expiry is None and shelf_life_days is not None and data.harvest_date is not None:
        expiry = data.harvest_date + timedelta(days=shelf_life_days)
    return BatchRead(
        id=data.id or uuid.uuid4(),
        product_id=data.product_id,
        organization_id=organization_id,
        lot=data.lot or new_lot(data.harvest_date),
        code=random_code(CODE_LENGTH),
        quantity=data.quantity,
        quantity_available=data.quantity,
        unit=data.unit.strip(),
        harvest_date=data.harvest_date,
        harvest_end=data.harvest_end,
        plot_id=data.plot_id,
        photos=data.photos,
        expiry_date=expiry,
        notes=data.notes,
        status="active",
        recall_reason=None,
        recalled_at=None,
        phi_violation=phi,
        created_at=now,
        updated_at=now,
    )


def _unique_failure(exc: asyncpg.UniqueViolationError, lot_given: bool) -> Exception | None:
    """Map a unique violation to the client's mistake, or None when retrying with a new lot/code helps."""
    constraint = exc.constraint_name or ""
    if constraint == "batches_pkey":
        return Conflict("a batch with this id already exists", code="batch_exists")
    if constraint == "batches_product_id_lot_key" and lot_given:
        return Conflict("this product already has a batch with this lot code", code="lot_taken")
    if constraint == "events_pkey":
        return Conflict("an event with this id already exists", code="event_exists")
    return None


class Registered(NamedTuple):
    """What registering a batch gave: the batch, and whether an earlier request with the same key made it."""

    batch: BatchRead
    replayed: bool


async def create_batch(
    conn: asyncpg.Connection,
    user: CurrentUser,
    data: BatchCreate,
    base_url: str,
    *,
    key: str | None,
    operation: str = "create_batch",
    request_hash: str | None = None,
) -> Registered:
    """The new batch; or, when the same key and body come again, the stored one marked as replayed.

    Three round trips: one read (access, plot, PHI, key), one statement writing batch, event, key and the
    head's place in the transparency log's queue, and the log's sequencing once that has committed.
    """
    key = idempotency.check_idempotency_key(key)
    check_batch_fields(data)
    event_time = check_event_time(data.event_time)
    request_hash = request_hash or idempotency.body_hash(data)
    place = None if data.place_id is None else await usable_place(conn, user, data.place_id)
    for _attempt in range(3):
        pre = await eq.batch_precheck(conn, user.id, data.product_id, data.plot_id, data.harvest_date, key)
        stored = idempotency.check_replay(
            pre.key_hash,
            request_hash,
            None if pre.key_status is None else idempotency.Stored(pre.key_status, pre.key_response or {}),
        )
        if stored is not None:
            return Registered(msgspec.convert(stored.response, BatchRead), replayed=True)
        if pre.product_org is None or not (pre.mine or user.role == "admin"):
            raise NotFound("no product with this id", code="product_not_found")
        if data.plot_id is not None and pre.plot_org != pre.product_org:
            raise NotFound("no plot with this id in the product's organization", code="plot_not_found")
        now = datetime.now(UTC)
        batch = build_batch(
            data, organization_id=pre.product_org, shelf_life_days=pre.shelf_life_days, phi=pre.phi, now=now
        )
        read_point, biz_location = locations(base_url, batch.organization_id, batch.plot_id)
        details: dict[str, Any] = {}
        if data.notes:
            details["notes"] = data.notes
        if place is not None:
            details["place"] = place_detail(place)
            biz_location = place_uri(base_url, place.id)
        event = ChainedEvent(
            id=uuid.uuid4(),
            batch_id=batch.id,
            seq=1,
            event_type="ObjectEvent",
            action="ADD",
            biz_step="commissioning",
            disposition="active",
            event_time=event_time,
            event_time_zone_offset=clock.VN_OFFSET,
            read_point=read_point,
            biz_location=biz_location,
            quantity=batch.quantity,
            unit=batch.unit,
            inputs=[],
            outputs=[],
            details=details,
            recorded_by=user.id,
        )
        remembered = None if key is None else (key, operation, request_hash, 201, batch)
        try:
            if conn.is_in_transaction():  # a sync queue: keep its transaction usable for a retry
                async with conn.transaction():
                    await eq.insert_batch_with_first_event(
                        conn, batch, user.id, event, event_hash(event, GENESIS_HASH), remembered
                    )
            else:
                await eq.insert_batch_with_first_event(
                    conn, batch, user.id, event, event_hash(event, GENESIS_HASH), remembered
                )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "idempotency_keys_pkey":
                continue  # a concurrent request with the same key won: replay its answer
            failure = _unique_failure(exc, data.lot is not None)
            if failure is not None:
                raise failure from exc
            continue  # generated lot or code collided: draw again
        except asyncpg.ForeignKeyViolationError as exc:
            raise NotFound("a referenced record does not exist", code="reference_not_found") from exc
        await eq.log_pending_heads(conn)  # inside a sync queue's transaction: its caller logs after the commit
        return Registered(batch, replayed=False)
    raise Conflict("could not register the batch; try again", code="batch_retry")


async def readable_batch(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID) -> BatchRead:
    found = await eq.batch(conn, batch_id)
    if found is None:
        raise NotFound("no batch with this id", code="batch_not_found")
    await access.require_readable(conn, user, found.organization_id, "batch")
    return found


async def create_transformation(
    conn: asyncpg.Connection, user: CurrentUser, data: TransformationCreate, base_url: str
) -> TransformationRead:
    """Inputs (e.g. fresh leaves) become a new output batch (dried tea); inputs lose what was used."""
    check_batch_fields(data.output)
    event_time = check_event_time(data.event_time)
    for item in data.inputs:
        check_quantity(item.quantity)
    ids = [i.batch_id for i in data.inputs]
    if len(set(ids)) != len(ids):
        raise InvalidInput("each input batch appears once", code="duplicate_input")
    if data.output.id is not None and data.output.id in ids:
        raise InvalidInput("the output cannot be one of the inputs", code="output_is_input")
    if data.place_id is not None and data.output.place_id is not None and data.place_id != data.output.place_id:
        raise InvalidInput("place_id and output.place_id name different places", code="place_conflict")
    place_id = data.place_id or data.output.place_id
    async with conn.transaction():
        place = None if place_id is None else await usable_place(conn, user, place_id)
        pre = await eq.batch_precheck(conn, user.id, data.output.product_id, data.output.plot_id, None, None)
        if pre.product_org is None or not (pre.mine or user.role == "admin"):
            raise NotFound("no product with this id", code="product_not_found")
        if data.output.plot_id is not None and pre.plot_org != pre.product_org:
            raise NotFound("no plot with this id in the product's organization", code="plot_not_found")
        inputs_json: list[dict[str, Any]] = []
        # lock inputs in id order so two transformations sharing inputs cannot deadlock
        for item in sorted(data.inputs, key=lambda i: i.batch_id):
            locked = await lock_for_write(conn, user, item.batch_id, step="transforming")
            if item.unit.strip() != locked.unit:
                raise InvalidInput(
                    f"input {item.batch_id} is counted in {locked.unit}, not {item.unit}", code="unit_mismatch"
                )
            if item.quantity > locked.quantity_available:
                raise InvalidInput(
                    f"input {item.batch_id} has only {plain_decimal(locked.quantity_available)} {locked.unit} left",
                    code="quantity_exceeds_available",
                )
            if locked.first_time is not None and event_time < locked.first_time:
                raise InvalidInput("the transformation is dated before an input was harvested", code="event_too_early")
            inputs_json.append(
                {"batch_id": str(item.batch_id), "quantity": plain_decimal(item.quantity), "unit": locked.unit}
            )
        now = datetime.now(UTC)
        batch = build_batch(
            data.output, organization_id=pre.product_org, shelf_life_days=pre.shelf_life_days, phi=False, now=now
        )
        read_point, biz_location = locations(base_url, batch.organization_id, batch.plot_id)
        details: dict[str, Any] = {"notes": data.notes} if data.notes else {}
        if place is not None:
            details["place"] = place_detail(place)
            biz_location = place_uri(base_url, place.id)
        event = ChainedEvent(
            id=uuid.uuid4(),
            batch_id=batch.id,
            seq=1,
            event_type="TransformationEvent",
            action=None,
            biz_step=data.biz_step,
            disposition="active",
            event_time=event_time,
            event_time_zone_offset=clock.VN_OFFSET,
            read_point=read_point,
            biz_location=biz_location,
            quantity=batch.quantity,
            unit=batch.unit,
            inputs=inputs_json,
            outputs=[{"batch_id": str(batch.id), "quantity": plain_decimal(batch.quantity), "unit": batch.unit}],
            details=details,
            recorded_by=user.id,
        )
        try:
            await eq.insert_batch_with_first_event(conn, batch, user.id, event, event_hash(event, GENESIS_HASH), None)
        except asyncpg.UniqueViolationError as exc:
            raise _unique_failure(exc, data.output.lot is not None) or Conflict(
                "could not register the batch; try again", code="batch_retry"
            ) from exc
        for item in data.inputs:
            await eq.consume(conn, item.batch_id, item.quantity)
        await eq.insert_links(conn, [(i.batch_id, batch.id, event.id, i.quantity, i.unit.strip()) for i in data.inputs])
        events = await eq.events_of(conn, batch.id)
    await eq.log_pending_heads(conn)
    return TransformationRead(event=events[0], output=batch)


async def list_batches(conn: asyncpg.Connection, user: CurrentUser, *, limit: int, offset: int) -> list[BatchRead]:
    """The batches of the organizations the caller may see, newest first."""
    return await eq.batches_of(conn, user.id, all_orgs=access.is_reader_of_all(user), limit=limit, offset=offset)
