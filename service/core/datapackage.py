"""The Frictionless Tabular Data Package (v1 specs) of every published CSV, drawn from the open-data register.

Frictionless Data Package and Table Schema are the kept standard for "CSV with its column descriptions":
CKAN (the engine of most government portals) and the `frictionless` validator read them. Each CSV becomes a
resource with its Table Schema: types, formats, the constraints the data really keeps, keys. The specs have
one `title`/`description` string per object, so Vietnamese comes first and English follows in the same
string (titles "vi / en", descriptions as two paragraphs).
"""

from collections.abc import Sequence
from typing import Any

from service.core.catalog import (
    CATALOG_DESCRIPTION,
    CATALOG_TITLE,
    CSV,
    PUBLISHER,
    Column,
    Dataset,
    PublishedDataset,
)

MEDIA_TYPE = "application/json"
PATH = "/open-data/datapackage.json"
TABLE_SCHEMA = "https://specs.frictionlessdata.io/table-schema/"
ENCODING = "utf-8"  # the files start with a byte-order mark (for Excel); readers skip it
PACKAGE_NAME = "thai-nguyen-trace-tour-open-data"

_LICENCE_TITLES = {"CC-BY-4.0": "Creative Commons Attribution 4.0"}


def title(text: dict[str, str]) -> str:
    """A one-line title, Vietnamese first."""
    return f"{text['vi']} / {text['en']}"


def description(text: dict[str, str]) -> str:
    """Vietnamese, then English, as two paragraphs (Markdown, as the spec allows)."""
    return f"{text['vi']}\n\n{text['en']}"


def build(published: Sequence[PublishedDataset], *, base_url: str) -> dict[str, Any]:
    """The data package of every tabular dataset in `published` (GeoJSON and JSON ones are in DCAT only)."""
    tables = [item for item in published if item.dataset.tabular]
    names = {item.dataset.id for item in tables}
    modified = [item.last_updated for item in tables if item.last_updated is not None]
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "id": f"{base_url}{PATH}",
        "title": title(CATALOG_TITLE),
        "description": description(CATALOG_DESCRIPTION),
        "homepage": f"{base_url}/open-data/catalog.jsonld",
        "licenses": [_licence(tables[0].dataset)] if tables else [],
        "contributors": [{"title": title(PUBLISHER), "role": "publisher"}],
        "keywords": ["Thái Nguyên", "OCOP", "truy xuất nguồn gốc", "traceability", "open data", "dữ liệu mở"],
        "resources": [_resource(item, names) for item in tables],
    }
    if modified:
        package["created"] = max(modified).isoformat()
    return package


def _licence(dataset: Dataset) -> dict[str, str]:
    return {
        "name": dataset.licence,
        "path": dataset.licence_url,
        "title": _LICENCE_TITLES.get(dataset.licence, dataset.licence),
    }


def _resource(item: PublishedDataset, names: set[str]) -> dict[str, Any]:
    dataset = item.dataset
    resource: dict[str, Any] = {
        "profile": "tabular-data-resource",
        "name": dataset.id,
        "path": item.url,
        "title": title(dataset.title),
        "description": description(dataset.description),
        "format": "csv",
        "mediatype": CSV,
        "encoding": ENCODING,
        "licenses": [_licence(dataset)],
        "schema": table_schema(dataset, names),
    }
    if dataset.source is not None:
        resource["sources"] = [{"title": title(dataset.source)}]
    return resource


def table_schema(dataset: Dataset, names: set[str]) -> dict[str, Any]:
    """The dataset's Table Schema; foreign keys only to tables that are in the same package."""
    schema: dict[str, Any] = {"fields": [_field(c) for c in dataset.columns], "missingValues": [""]}
    if dataset.primary_key:
        schema["primaryKey"] = list(dataset.primary_key)
    foreign_keys = [
        {
            "fields": [fk.field],
            # Table Schema names the table itself by "" (a self-reference, e.g. a farm's cooperative)
            "reference": {
                "resource": "" if fk.dataset_id == dataset.id else fk.dataset_id,
                "fields": [fk.dataset_field],
            },
        }
        for fk in dataset.foreign_keys
        if fk.dataset_id in names
    ]
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return schema


def _field(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name, "type": column.type, "description": description(column.description)}
    if column.format is not None:
        field["format"] = column.format
    if column.type == "boolean":
        field["trueValues"], field["falseValues"] = ["true"], ["false"]
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True
    if column.unique:
        constraints["unique"] = True
    if column.enum is not None:
        constraints["enum"] = list(column.enum)
    if column.minimum is not None:
        constraints["minimum"] = _number(column.minimum, column.type)
    if column.maximum is not None:
        constraints["maximum"] = _number(column.maximum, column.type)
    if column.pattern is not None:
        constraints["pattern"] = column.pattern
    if constraints:
        field["constraints"] = constraints
    return field


def _number(value: float, type_: str) -> int | float:
    return int(value) if type_ == "integer" else value
