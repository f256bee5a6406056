"""The OpenAPI document a partner reads: sentence summaries and problem+json on every error, built on first use."""

from typing import Any

import httpx

from service.core.errors import PROBLEM_JSON

METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method]) for path, item in document["paths"].items() for method in METHODS if method in item
    ]


async def test_every_operation_documents_problem_responses_and_a_sentence_summary(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert set(document["components"]["schemas"]["Problem"]["required"]) >= {"type", "title", "status", "detail"}
    found = operations(document)
    assert len(found) > 50
    for path, method, operation in found:
        for status in ("400", "4XX", "5XX"):
            content = operation["responses"][status]["content"]
            assert content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}, (path, method, status)
    live = next(op for path, method, op in found if path == "/health/live" and method == "get")
    assert live["summary"] == "The process answers; no I/O"  # the first line of the handler's docstring
    assert all(" " in operation["summary"] for _, _, operation in found)  # sentences, not "ListBatches"
