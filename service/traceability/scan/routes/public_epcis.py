"""Route of the public EPCIS history of a batch (what the resolver's gs1:epcis link points at)."""

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.params import FromPath

from service.core.db import DB
from service.settings import Settings
from service.traceability.batches.epcis import EPCIS_MEDIA_TYPE
from service.traceability.scan.public_epcis import public_batch_document


@get(
    "/trace/{code:str}/epcis",
    operation_id="public_batch_epcis",
    exclude_from_auth=True,
    tags=["traceability: resolver"],
    media_type=EPCIS_MEDIA_TYPE,
    cache_control=None,
)
async def public_batch_epcis(db: DB, state: State, code: FromPath[str]) -> Response[dict[str, Any]]:
    """A batch's public EPCIS 2.0 history (its events, its direct inputs' and outputs'), no token needed."""
    settings: Settings = state.settings
    return Response(
        await public_batch_document(db, code, settings.base_url),
        media_type=EPCIS_MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=60", "Vary": "Accept"},
    )
