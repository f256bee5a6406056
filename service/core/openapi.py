"""The OpenAPI document as a person reads it: summaries from handler docstrings, problem+json on errors."""

from collections.abc import Iterator

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from service.core.errors import PROBLEM_JSON

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _operations(openapi: OpenAPI) -> Iterator[Operation]:
    for path_item in (openapi.paths or {}).values():
        for method in _METHODS:
            operation = getattr(path_item, method, None)
            if operation is not None:
                yield operation


def summarise_operations(openapi: OpenAPI) -> None:
    """Each operation's summary is the first line of its handler's docstring ("List my batches", not "ListAll")."""
    for operation in _operations(openapi):
        if operation.summary and " " in operation.summary:
            continue  # a summary written by hand (summary=...) stays
        if operation.description:
            first = operation.description.strip().splitlines()[0].strip()
            operation.summary = first.removesuffix(".")


def document_problems(openapi: OpenAPI) -> None:
    """State in the OpenAPI document what every operation really sends on errors: problem+json."""
    schema = Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status", "detail", "code"],
        properties={
            "type": Schema(type=OpenAPIType.STRING),
            "title": Schema(type=OpenAPIType.STRING),
            "status": Schema(type=OpenAPIType.INTEGER),
            "detail": Schema(type=OpenAPIType.STRING),
            "code": Schema(type=OpenAPIType.STRING, description="stable machine-readable error code"),
            "instance": Schema(type=OpenAPIType.STRING),
            "request_id": Schema(type=OpenAPIType.STRING),
            "errors": Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(
                    type=OpenAPIType.OBJECT,
                    required=["field", "message"],
                    properties={"field": Schema(type=OpenAPIType.STRING), "message": Schema(type=OpenAPIType.STRING)},
                ),
            ),
        },
    )
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas["Problem"] = schema
    content = {PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))}
    for operation in _operations(openapi):
        responses = operation.responses if operation.responses is not None else {}
        responses["400"] = OpenAPIResponse(description="Bad request (problem details)", content=content)
        responses.setdefault("4XX", OpenAPIResponse(description="Client error (problem details)", content=content))
        responses.setdefault("5XX", OpenAPIResponse(description="Server error (problem details)", content=content))
        operation.responses = responses


class _FinishedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, adding the summaries and problem responses when it builds the document."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        openapi = super()._build_openapi()
        document_problems(openapi)
        summarise_operations(openapi)
        return openapi


def finish_lazily(app: Litestar) -> None:
    """Add the summaries and problem responses when the document is first built, not when the app is.

    Litestar builds the OpenAPI document on first use (`/schema`, `app.openapi_schema`); building it costs about
    a second for this app, which every app start (and every test) would otherwise pay for a document few read.
    The plugin has no public hook for this and its instance is made inside `Litestar()`, so the instance is given
    the subclass above (same slots, one method more); tests/core/test_openapi.py fails if an upgrade changes it.
    """
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _FinishedOpenAPIPlugin
