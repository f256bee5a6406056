"""Routes that opted out of authentication or compression are served without those layers, and nothing else is."""

from typing import Any

from litestar import Litestar
from litestar.middleware.compression import CompressionMiddleware
from litestar.routes import HTTPRoute
from litestar.security.jwt import JWTAuthenticationMiddleware

from service.core.stacks import _nodes
from tests.support import factories as f
from tests.support.app import UserFactory


def _layers(stack: Any) -> list[Any]:
    """The layers of a route's stack, outermost first, down to the route itself."""
    found = []
    while stack is not None:
        found.append(stack)
        stack = getattr(stack, "app", None)
    return found


def _stacks(app: Litestar) -> list[tuple[str, str, Any, Any]]:
    return [
        (method, node.path_template, stack, handler)
        for node in _nodes(app.asgi_router.root_route_map_node)
        for method, (stack, handler) in node.asgi_handlers.items()
    ]


def _is_route(layer: Any) -> bool:
    return getattr(layer, "__func__", None) is HTTPRoute.handle


def test_liveness_and_cached_qr_are_called_with_nothing_around_them(app: Litestar) -> None:
    stacks = {(method, path): stack for method, path, stack, _ in _stacks(app)}
    for key in (("GET", "/health/live"), ("GET", "/api/v1/batches/{batch_id}/qr.png")):
        assert _is_route(stacks[key]), f"{key}: {[type(layer).__name__ for layer in _layers(stacks[key])]}"


def test_every_route_that_did_not_opt_out_of_authentication_still_checks_tokens(app: Litestar) -> None:
    """Fail-closed: only an explicit `exclude_from_auth` (or the schema and metrics paths) loses the JWT layer."""
    checked = public = 0
    for method, path, stack, handler in _stacks(app):
        layers = _layers(stack)
        authenticates = any(isinstance(layer, JWTAuthenticationMiddleware) for layer in layers)
        opted_out = bool(handler.opt.get("exclude_from_auth")) or path.startswith(("/schema", "/metrics"))
        if method == "OPTIONS" or opted_out:
            public += not authenticates
            continue
        assert authenticates, f"{method} {path} lost its authentication layer"
        assert _is_route(layers[-1])
        checked += 1
    assert checked > 50 and public > 50  # the app's own routes, both kinds, were looked at


def test_public_routes_that_compress_keep_compression_but_not_the_skipped_auth_layer(app: Litestar) -> None:
    stacks = {(method, path): stack for method, path, stack, _ in _stacks(app)}
    layers = _layers(stacks[("GET", "/api/v1/sites")])
    assert isinstance(layers[0], CompressionMiddleware)
    assert not any(isinstance(layer, JWTAuthenticationMiddleware) for layer in layers)


async def test_a_private_route_still_refuses_a_missing_token_and_takes_a_good_one(
    client: f.Client, make_user: UserFactory
) -> None:
    refused = await client.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    headers = await make_user("farmer")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200


async def test_bare_routes_still_answer_errors_as_problem_documents(client: f.Client) -> None:
    """Nothing wraps a bare route: Litestar's app-level error handling answers its errors, with the request id."""
    missing = await client.get("/api/v1/media/00000000-0000-0000-0000-000000000000", headers={"X-Request-ID": "r-1"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.headers["x-request-id"] == "r-1"
    assert missing.json()["status"] == 404
    bad = await client.get("/api/v1/batches/not-a-uuid/qr.png")
    assert bad.status_code in (400, 404)
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_public_json_is_still_gzipped_for_phones_that_ask(client: f.Client) -> None:
    answer = await client.get("/open-data/catalog.json", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers.get("content-encoding") == "gzip"
    assert answer.json()["datasets"]
