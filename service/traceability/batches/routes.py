"""Routes for batches, their events, transformations and offline sync."""

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from service.auth.guards import CurrentUserDep, requires_role
from service.auth.schemas import Role
from service.core.changes import invalidate_locally_after_writes
from service.core.db import DB
from service.core.dependencies import BaseUrl
from service.traceability.batches import epcis, events, sync
from service.traceability.batches import service as batches
from service.traceability.batches.schemas import (
    BatchCreate,
    BatchRead,
    ChainReport,
    EventCreate,
    EventRead,
    InspectionCreate,
    RecallCreate,
    SyncRequest,
    SyncResponse,
    TransformationCreate,
    TransformationRead,
)

WRITERS: tuple[Role, ...] = ("farmer", "cooperative", "admin")
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", required=False, max_length=200, description="retry-safe creation"),
]


class BatchController(Controller):
    path = "/api/v1/batches"
    # a recall, an inspection or a new event shows on the very next scan served by this worker
    middleware = [invalidate_locally_after_writes("batches", "batch_id")]
    tags = ["traceability: batches"]

    @post("", operation_id="create_batch", guards=[requires_role(*WRITERS)], status_code=201)
    async def create(
        self,
        current_user: CurrentUserDep,
        db: DB,
        base_url: BaseUrl,
        data: JSONBody[BatchCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BatchRead]:
        """Register a harvest lot with its commissioning event; the same Idempotency-Key replays (200)."""
        registered = await batches.create_batch(db, current_user, data, base_url, key=idempotency_key)
        return Response(registered.batch, status_code=200 if registered.replayed else 201)

    @get("", operation_id="list_batches")
    async def list_all(
        self, current_user: CurrentUserDep, db: DB, limit: Limit = 50, offset: Offset = 0
    ) -> list[BatchRead]:
        """Batches of your organization and member farms, newest first; inspectors and admins see all."""
        user = current_user
        return await batches.list_batches(db, user, limit=limit, offset=offset)

    @get("/{batch_id:uuid}", operation_id="get_batch")
    async def get_one(self, current_user: CurrentUserDep, db: DB, batch_id: FromPath[uuid.UUID]) -> BatchRead:
        """One batch."""
        return await batches.readable_batch(db, current_user, batch_id)

    @get("/{batch_id:uuid}/events", operation_id="list_batch_events")
    async def list_events(self, current_user: CurrentUserDep, db: DB, batch_id: FromPath[uuid.UUID]) -> list[EventRead]:
        """The batch's history in chain order."""
        return await events.batch_events(db, current_user, batch_id)

    @post(
        "/{batch_id:uuid}/events", operation_id="append_batch_event", guards=[requires_role(*WRITERS)], status_code=201
    )
    async def append(
        self,
        current_user: CurrentUserDep,
        db: DB,
        base_url: BaseUrl,
        batch_id: FromPath[uuid.UUID],
        data: JSONBody[EventCreate],
    ) -> EventRead:
        """Record what happened to the batch (packing, storing, shipping, receiving, retail_selling...)."""
        return await events.append_event(db, current_user, batch_id, data, base_url)

    @post(
        "/{batch_id:uuid}/inspections",
        operation_id="inspect_batch",
        guards=[requires_role("inspector", "admin")],
        status_code=201,
    )
    async def inspect(
        self,
        current_user: CurrentUserDep,
        db: DB,
        base_url: BaseUrl,
        batch_id: FromPath[uuid.UUID],
        data: JSONBody[InspectionCreate],
    ) -> EventRead:
        """An inspector's result (conformant or non_conformant) becomes an inspecting event."""
        return await events.record_inspection(db, current_user, batch_id, data, base_url)

    @post(
        "/{batch_id:uuid}/recall",
        operation_id="recall_batch",
        guards=[requires_role("inspector", "admin")],
        status_code=201,
    )
    async def recall(
        self,
        current_user: CurrentUserDep,
        db: DB,
        base_url: BaseUrl,
        batch_id: FromPath[uuid.UUID],
        data: JSONBody[RecallCreate],
    ) -> EventRead:
        """Recall a batch with a reason; only inspecting or destroying may follow."""
        return await events.recall_batch(db, current_user, batch_id, data, base_url)

    @get("/{batch_id:uuid}/verify", operation_id="verify_batch_chain")
    async def verify(self, current_user: CurrentUserDep, db: DB, batch_id: FromPath[uuid.UUID]) -> ChainReport:
        """Recompute the hash chain: valid, or the first event where it breaks."""
        return await events.verify_chain(db, current_user, batch_id)

    @get("/{batch_id:uuid}/epcis", operation_id="export_batch_epcis", media_type=epcis.EPCIS_MEDIA_TYPE)
    async def export(
        self, current_user: CurrentUserDep, db: DB, base_url: BaseUrl, batch_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        """EPCIS 2.0 document: this batch's events and those of its direct inputs and outputs."""
        await batches.readable_batch(db, current_user, batch_id)
        return await epcis.export_batch(db, batch_id, base_url)


class TransformationController(Controller):
    path = "/api/v1/transformations"
    tags = ["traceability: batches"]

    @post("", operation_id="create_transformation", guards=[requires_role(*WRITERS)], status_code=201)
    async def create(
        self,
        current_user: CurrentUserDep,
        db: DB,
        base_url: BaseUrl,
        data: JSONBody[TransformationCreate],
    ) -> TransformationRead:
        """Turn input batches into a new batch (fresh leaves -> dried tea), with quantities."""
        return await batches.create_transformation(db, current_user, data, base_url)


class SyncController(Controller):
    path = "/api/v1/sync"
    tags = ["traceability: batches"]

    @post("", operation_id="sync_operations", guards=[requires_role(*WRITERS)], status_code=200)
    async def run(
        self, current_user: CurrentUserDep, db: DB, base_url: BaseUrl, data: JSONBody[SyncRequest]
    ) -> SyncResponse:
        """Apply a queue recorded offline: one result per operation; replaying is harmless."""
        return await sync.run_sync(db, current_user, data, base_url)
