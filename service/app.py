"""The application factory: routers, lifespan, plugins and error handlers in one place."""

import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Controller, Litestar, Response, get
from litestar.config.compression import CompressionConfig
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from service import crosslinks, statistics, tourism, traceability
from service.auth.admin_routes import UserAdminController
from service.auth.guards import build_jwt_auth, provide_current_user
from service.auth.pages import SignInController
from service.auth.routes import AuthController
from service.auth.sessions import auth_lifespan
from service.core.changes import change_feed_lifespan
from service.core.db import database_lifespan, provide_connection, provide_read_connection
from service.core.dependencies import provide_base_url
from service.core.edge import Edge
from service.core.errors import EXCEPTION_HANDLERS
from service.core.health import HealthController
from service.core.http_files import SKIP_COMPRESSION
from service.core.metrics_server import MULTIPROC_ENV, summed_registry
from service.core.observability import request_metrics, worker_metrics_lifespan
from service.core.open_data import OpenDataCatalogController
from service.core.openapi import finish_lazily
from service.core.pdf import printing_lifespan
from service.core.prepared import COMPRESS_FROM, GZIP_LEVEL
from service.core.stacks import lean_route_stacks
from service.jobs import jobs_lifespan
from service.media import routes as media_routes
from service.partners.routes import PartnerAdminController, provide_partner
from service.schedule import scheduled_jobs
from service.settings import Settings
from service.storage import storage_lifespan

# response headers a script on another origin may read (the resolver's links, validators, the request id)
EXPOSED_HEADERS = ("Link", "ETag", "X-Request-ID", "Location")


async def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """With METRICS_TOKEN set, /metrics needs it as a bearer token; in production without one it is off."""
    settings: Settings = connection.app.state.settings
    expected = settings.metrics_token
    if expected is None:
        if settings.env == "production":
            raise PermissionDeniedException("metrics are off in production until METRICS_TOKEN is set")
        return
    scheme, _space, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise NotAuthorizedException(
            "metrics need the bearer token METRICS_TOKEN", headers={"WWW-Authenticate": "Bearer"}
        )


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False
    guards = [metrics_guard]

    @get(sync_to_thread=True)
    def metrics(self) -> Response[bytes]:
        """This worker's metrics, or every worker's summed where `serve` gives them one directory (METRICS_PORT)."""
        directory = os.environ.get(MULTIPROC_ENV)
        registry = summed_registry(Path(directory)) if directory else REGISTRY
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; tests pass their own settings instead of editing the environment."""
    settings = settings or Settings.from_env()
    settings.check()
    jwt_auth = build_jwt_auth(settings)
    metrics = request_metrics(prefix="trace_tour", app_name="trace_tour")

    @asynccontextmanager
    async def state_lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.jwt_auth = jwt_auth
        app.state.open_datasets = [*traceability.open_datasets, *tourism.open_datasets, *statistics.open_datasets]
        yield

    app = Litestar(
        route_handlers=[
            HealthController,
            MetricsController,
            AuthController,
            SignInController,
            UserAdminController,
            PartnerAdminController,
            OpenDataCatalogController,
            *media_routes.route_handlers,
            *traceability.route_handlers,
            *tourism.route_handlers,
            *statistics.route_handlers,
        ],
        dependencies={
            "db": Provide(provide_connection),
            "read_db": Provide(provide_read_connection),
            "current_user": Provide(provide_current_user, sync_to_thread=False),
            "base_url": Provide(provide_base_url, sync_to_thread=False),
            "partner": Provide(provide_partner),
            **crosslinks.DEPENDENCIES,
        },
        lifespan=[
            state_lifespan,
            worker_metrics_lifespan,
            database_lifespan,
            change_feed_lifespan,
            auth_lifespan,
            storage_lifespan,
            printing_lifespan([*traceability.pdf_drawings, *tourism.pdf_drawings]),
            traceability.lifespan,
            tourism.lifespan,
            jobs_lifespan(scheduled_jobs),
        ],
        on_app_init=[jwt_auth.on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=COMPRESS_FROM,
            gzip_compress_level=GZIP_LEVEL,
            exclude_opt_key=SKIP_COMPRESSION,
        ),
        openapi_config=OpenAPIConfig(
            title="Thái Nguyên Trace & Tour",
            version="1.0.0",
            description="OCOP traceability with QR codes, and heritage sites with audio guides.",
            path="/schema",
            use_handler_docstrings=True,
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                    "PartnerBasic": SecurityScheme(
                        type="http", scheme="basic", description="a partner API client's id and secret"
                    ),
                    "PartnerBearer": SecurityScheme(
                        type="http", scheme="bearer", description="a partner token from POST /epcis/token"
                    ),
                }
            ),
        )
        if settings.serves_schema
        else None,
        debug=False,
    )
    # routes that opted out of authentication or compression lose those layers' stack frames, not just their work
    lean_route_stacks(app)
    # request ids, CORS, request metrics and access lines around everything, routing included, in one pass over
    # the headers (core/edge.py)
    # and the warm lanes: prepared answers replayed before routing, registered by the domains' lifespans
    app.asgi_handler = app.state.edge = edge = Edge(app.asgi_handler, expose_headers=EXPOSED_HEADERS, metrics=metrics)
    app.on_shutdown.append(edge.access.flush)  # the access lines still queued
    if settings.serves_schema:
        finish_lazily(app)
    return app
