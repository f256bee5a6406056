"""The ASGI entry point for the production server (granian calls build() in each worker)."""

from litestar import Litestar

from service.app import create_app
from service.core.observability import configure_logging
from service.settings import Settings


def build() -> Litestar:
    """Read the environment once, when the worker starts; never at import."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
