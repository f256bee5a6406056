"""GS1's EPCIS 2.0 JSON schema (a copy shipped with the service, licence beside it), loaded once, formats checked."""

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SCHEMA_PATH = Path(__file__).with_name("EPCIS-JSON-Schema.json")
_EVENT_PATH = re.compile(r"^epcisBody/eventList/(\d+)")


@functools.cache
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def _where(path: list[str | int]) -> str:
    return "/".join(str(p) for p in path)


def document_errors(document: Any) -> tuple[list[str], dict[int, list[str]]]:
    """(errors of the document itself, errors of each event by its index in eventList); CPU work: call off the loop."""
    top: list[str] = []
    per_event: dict[int, list[str]] = {}
    for error in validator().iter_errors(document):
        where = _where(list(error.absolute_path))
        found = _EVENT_PATH.match(where)
        message = f"{where or '(document)'}: {error.message}"[:500]
        if found:
            per_event.setdefault(int(found.group(1)), []).append(message)
        else:
            top.append(message)
    return top, per_event
