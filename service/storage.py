"""Media storage: LocalStore (default) and S3Store (boto3) behind one MediaStore interface."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar


@asynccontextmanager
async def storage_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Placeholder until the media store lands: nothing to open yet."""
    yield
