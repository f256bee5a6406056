"""The ASGI entry point for the production server (granian calls build() in each worker)."""

import gc

from litestar import Litestar

from service.app import create_app
from service.core.observability import configure_logging
from service.settings import Settings


def build() -> Litestar:
    """Read the environment once, when the worker starts; never at import."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # Everything imported and built so far lives as long as the worker: moved out of the collector's sight,
    # so a full collection walks only what requests and caches made (it paused the guide's tail otherwise).
    gc.collect()
    gc.freeze()
    return app
