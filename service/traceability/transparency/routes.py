"""Public routes of the transparency log: checkpoint, key, leaves, consistency proofs, a batch's inclusion proof."""

from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter
from litestar.types import ControllerRouterHandler

from service.core.db import DB
from service.core.errors import ServiceError
from service.traceability.identifiers.digital_link import DigitalLinkError, parse_short_link
from service.traceability.transparency import service as log_service
from service.traceability.transparency.schemas import BatchProof, Checkpoint, ConsistencyProof, Leaves, LogKey

TreeSize = Annotated[int, QueryParameter(ge=0, le=2**53)]
NO_STORE = {"Cache-Control": "no-cache"}


class BadCode(ServiceError):
    status, code, title = 400, "invalid_short_code", "Invalid batch code"


class TransparencyController(Controller):
    path = "/transparency"
    tags = ["traceability: transparency log"]

    @get("/checkpoint", operation_id="transparency_checkpoint", exclude_from_auth=True, cache_control=None)
    async def checkpoint(self, db: DB, state: State) -> Response[Checkpoint]:
        """The newest signed checkpoint (tree size, root hash, time): save it to check the log against later."""
        found = await log_service.current_checkpoint(db, state.transparency)
        return Response(found, headers={"Cache-Control": "public, max-age=5"})

    @get("/key", operation_id="transparency_key", exclude_from_auth=True, cache_control=None)
    async def key(self, state: State) -> Response[LogKey]:
        """The Ed25519 public key that signs the checkpoints."""
        return Response(state.transparency.published_key(), headers={"Cache-Control": "public, max-age=3600"})

    @get("/entries", operation_id="transparency_entries", exclude_from_auth=True, cache_control=None)
    async def entries(
        self, db: DB, start: TreeSize = 0, end: Annotated[int | None, QueryParameter(ge=0, le=2**53)] = None
    ) -> Response[Leaves]:
        """Leaves start..end-1 (at most 1000 a page): each a logged chain head and the exact text hashed."""
        return Response(await log_service.leaf_entries(db, start, end), headers=NO_STORE)

    @get("/consistency", operation_id="transparency_consistency", exclude_from_auth=True, cache_control=None)
    async def consistency(self, db: DB, state: State, first: TreeSize, second: TreeSize) -> ConsistencyProof:
        """RFC 9162 consistency proof: the tree of `first` leaves is a prefix of the tree of `second` leaves."""
        return await log_service.consistency(db, state.transparency, first, second)


@get(
    "/trace/{code:str}/proof",
    operation_id="public_batch_log_proof",
    exclude_from_auth=True,
    tags=["traceability: transparency log"],
    cache_control=None,
)
async def public_batch_log_proof(db: DB, state: State, code: FromPath[str]) -> Response[BatchProof]:
    """The batch's newest chain head in the transparency log, with its inclusion proof and signed checkpoint."""
    try:
        link = parse_short_link(f"/q/{code}")
    except DigitalLinkError as exc:
        raise BadCode(exc.detail) from exc
    proof = await log_service.batch_proof(db, state.transparency, link.code)
    return Response(proof, headers={"Cache-Control": "public, max-age=5"})


route_handlers: list[ControllerRouterHandler] = [TransparencyController, public_batch_log_proof]
