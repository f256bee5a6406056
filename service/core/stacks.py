"""Route stacks without the layers that would only step aside.

Litestar builds one middleware stack per route and method when the app is made: every app-level middleware
(here: the JWT authentication) and the compression middleware, inside an exception wrapper. A route that opts
out of a layer (`exclude_from_auth=True`, `opt={SKIP_COMPRESSION: True}`) still has the layer in its stack,
which checks the route's `opt` on every request and steps aside: calls and a wrapper for nothing (about a
fifth of `/health/live`'s CPU in process).

`lean_route_stacks` rebuilds, once, after the app is made and before it serves, the stack of each route that
opts out of a layer by its `opt` key, without that layer (and without the exception wrapper when nothing is
left around the route: Litestar's app-level exception handling answers as it does for any route without
middleware). Only layers Litestar itself would bypass for every request of that route are left out, judged
by the same `opt` keys, so behaviour does not change. It stays fail-closed: a route that says nothing keeps
Litestar's own stack, authentication included; only a route that explicitly opted out loses the check it
would have skipped anyway. Stacks with anything this module does not mirror (a response cache, CSRF, allowed
hosts) are left as Litestar built them.
"""

from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar._asgi.routing_trie.types import ASGIHandlerTuple, RouteTrieNode
from litestar._asgi.utils import wrap_in_exception_handler
from litestar.handlers import HTTPRouteHandler
from litestar.middleware.base import DefineMiddleware
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp


def lean_route_stacks(app: Litestar) -> int:
    """Rebuild the stacks of routes that opt out of a layer, without it; how many stacks changed."""
    if app.csrf_config or app.allowed_hosts:
        return 0
    routes = {
        id(handler): route
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler, _ in route.route_handler_map.values()
    }
    changed = 0
    for node in _nodes(app.asgi_router.root_route_map_node):
        for method, (_, handler) in list(node.asgi_handlers.items()):
            route = routes.get(id(handler))
            if route is None or not isinstance(handler, HTTPRouteHandler):
                continue
            stack = _lean_stack(app, route, handler)
            if stack is not None:
                node.asgi_handlers[method] = ASGIHandlerTuple(asgi_app=stack, handler=handler)
                changed += 1
    app.asgi_router.handle_routing.cache_clear()  # nothing is routed yet; never serve a stale stack
    return changed


def _nodes(node: RouteTrieNode) -> Iterator[RouteTrieNode]:
    yield node
    for child in node.children.values():
        yield from _nodes(child)


def _lean_stack(app: Litestar, route: HTTPRoute, handler: HTTPRouteHandler) -> ASGIApp | None:
    """The route's stack without the layers its `opt` turns off; None to keep Litestar's."""
    if handler.cache:
        return None  # the response cache layer: Litestar's own stack
    middleware = handler.resolve_middleware()
    kept: list[Any] = [m for m in middleware if not _opted_out(m, handler.opt)]  # as Litestar's, of many shapes
    compression = app.compression_config
    if compression is not None and handler.opt.get(compression.exclude_opt_key or ""):
        compression = None  # this route opted out of it
    elif len(kept) == len(middleware):
        return None  # nothing to leave out
    stack: ASGIApp = route.handle  # type: ignore[assignment]  # an HTTP route's handler, as Litestar uses it
    if not kept and compression is None:
        return stack
    stack = wrap_in_exception_handler(app=stack)  # as Litestar: errors answered inside the layers' send wrappers
    if compression is not None:
        stack = compression.middleware_class(app=stack, config=compression)
    for layer in kept:
        if hasattr(layer, "__iter__"):  # as Litestar reads a (factory, kwargs) pair
            factory, kwargs = layer
            stack = factory(app=stack, **kwargs)
        else:
            stack = layer(app=stack)
    return stack


def _opted_out(layer: Any, opt: dict[str, Any]) -> bool:
    """A layer defined with an `exclude_opt_key` this route sets: Litestar bypasses it for every request then."""
    if not isinstance(layer, DefineMiddleware):
        return False
    key = layer.kwargs.get("exclude_opt_key")
    return isinstance(key, str) and bool(opt.get(key))
