"""Offline queues from phones: each operation applied whole or not at all, one result each, replay harmless."""

from typing import Any

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core.errors import Conflict, InvalidInput, ServiceError
from service.traceability.batches import events, idempotency
from service.traceability.batches import queries as eq
from service.traceability.batches import service as batches
from service.traceability.batches.schemas import SyncOperation, SyncRequest, SyncResponse, SyncResult
from service.traceability.registry import service as services


def _problem(exc: ServiceError) -> dict[str, Any]:
    return {"status": exc.status, "code": exc.code, "detail": exc.detail}


async def _apply(
    conn: asyncpg.Connection, user: CurrentUser, op: SyncOperation, base_url: str, key: str, request_hash: str
) -> SyncResult:
    """Inside the caller's transaction: do the operation and store its answer under the key."""
    result: msgspec.Struct
    if op.op == "create_batch":
        if op.batch is None:
            raise InvalidInput("create_batch needs `batch`", code="incomplete_operation")
        # the batch path stores its own key in the same statement as the batch
        registered = await batches.create_batch(
            conn, user, op.batch, base_url, key=key, operation="sync", request_hash=request_hash
        )
        return SyncResult(
            client_id=op.client_id,
            status=200 if registered.replayed else 201,
            replayed=registered.replayed,
            resource_id=registered.batch.id,
            result=msgspec.to_builtins(registered.batch),
        )
    if op.op == "append_event":
        if op.batch_id is None or op.event is None:
            raise InvalidInput("append_event needs `batch_id` and `event`", code="incomplete_operation")
        result = await events.append_event(conn, user, op.batch_id, op.event, base_url)
    else:
        if op.plot_id is None or op.input is None:
            raise InvalidInput("create_input needs `plot_id` and `input`", code="incomplete_operation")
        result = await services.create_input(conn, user, op.plot_id, op.input)
    await idempotency.remember(conn, user.id, key, "sync", request_hash, 201, result)
    body = msgspec.to_builtins(result)
    return SyncResult(client_id=op.client_id, status=201, resource_id=body["id"], result=body)


async def run_sync(conn: asyncpg.Connection, user: CurrentUser, data: SyncRequest, base_url: str) -> SyncResponse:
    results: list[SyncResult] = []
    for op in data.operations:
        key = f"sync:{op.client_id}"
        request_hash = idempotency.body_hash(op)
        try:
            stored = await idempotency.lookup(conn, user.id, key, request_hash)
            if stored is not None:
                body = stored.response
                results.append(
                    SyncResult(
                        client_id=op.client_id, status=200, replayed=True, resource_id=body.get("id"), result=body
                    )
                )
                continue
            async with conn.transaction():
                results.append(await _apply(conn, user, op, base_url, key, request_hash))
        except ServiceError as exc:
            results.append(SyncResult(client_id=op.client_id, status=exc.status, error=_problem(exc)))
        except asyncpg.UniqueViolationError:
            results.append(await _raced(conn, user, op, key, request_hash))
    await eq.log_pending_heads(conn)  # the heads each operation's transaction queued, now committed
    return SyncResponse(results=results)


async def _raced(
    conn: asyncpg.Connection, user: CurrentUser, op: SyncOperation, key: str, request_hash: str
) -> SyncResult:
    """The operation collided with a row committed meanwhile: if it was this very operation (sent again from
    another connection) report its stored answer; otherwise, or if the look-up itself fails, a result for
    this operation alone, so the rest of the queue still runs."""
    try:
        stored = await idempotency.lookup(conn, user.id, key, request_hash)
    except ServiceError as exc:
        return SyncResult(client_id=op.client_id, status=exc.status, error=_problem(exc))
    if stored is None:
        conflict = Conflict("this operation conflicts with data stored meanwhile; reload and retry", code="conflict")
        return SyncResult(client_id=op.client_id, status=conflict.status, error=_problem(conflict))
    body = stored.response
    return SyncResult(client_id=op.client_id, status=200, replayed=True, resource_id=body.get("id"), result=body)
