"""The open-data register: each domain describes its datasets here; every catalogue is drawn from it.

A domain lists `(Dataset, last_updated)` pairs (traceability.open_datasets, tourism.open_datasets, ...);
app.py puts them on `state.open_datasets`. Three documents read that one list, so a dataset registered
once appears in all of them: our own `/open-data/catalog.json` (kept for the apps), the Frictionless data
package (`core.datapackage`, every CSV with its Table Schema) and the DCAT catalogue (`core.dcat`, JSON-LD).

To publish a CSV: a `Dataset` with `media_type="text/csv"`, its `columns` in file order (each described in vi
and en, typed, with the constraints the data really keeps: the data package is validated against the served
file), `issued`, `frequency` (a daily rollup: "daily"), `primary_key`, and a `last_updated(conn)` function;
add the pair to the domain's `open_datasets`. A suppressed small count must then be an empty cell (missing
value), never text like "<5" in an integer column.
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Literal

import msgspec
from litestar.datastructures import State

LICENCE = "CC-BY-4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
CSV = "text/csv"

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
Frequency = Literal["continuous", "daily", "weekly", "monthly", "irregular"]


class Column(msgspec.Struct, frozen=True):
    """One published column: a Table Schema field (type, format, constraints) with its meaning in vi and en.

    Constraints are stated only where the data guarantees them (a database check, a key), so a validator
    holding the file to them finds a real fault, never a wish.
    """

    name: str
    description: dict[str, str]  # {"vi": ..., "en": ...}
    type: FieldType = "string"
    format: str | None = None  # Table Schema format: "uuid", "uri", "email"
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None


class ForeignKey(msgspec.Struct, frozen=True):
    """A column that names a row of another published table (Table Schema foreignKeys)."""

    field: str
    dataset_id: str
    dataset_field: str


class Dataset(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # lower-case letters, digits, "-": also the data package's resource name
    title: dict[str, str]
    description: dict[str, str]
    path: str
    media_type: str
    columns: list[Column]
    licence: str = LICENCE
    licence_url: str = LICENCE_URL
    issued: date | None = None  # first published
    frequency: Frequency = "continuous"
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    source: dict[str, str] | None = None  # where the rows come from, vi and en

    @property
    def tabular(self) -> bool:
        """A CSV with a Table Schema: what the data package lists."""
        return self.media_type.split(";")[0].strip() == CSV


class PublishedDataset(msgspec.Struct, frozen=True, kw_only=True):
    """A registered dataset as published now: its address and its newest change."""

    dataset: Dataset
    url: str
    last_updated: datetime | None


class ColumnEntry(msgspec.Struct, kw_only=True):
    name: str
    description: str  # English, as catalog.json always gave it
    descriptions: dict[str, str]
    type: str


class DatasetEntry(msgspec.Struct, kw_only=True):
    id: str
    title: dict[str, str]
    description: dict[str, str]
    url: str
    media_type: str
    licence: str
    licence_url: str
    columns: list[ColumnEntry]
    last_updated: datetime | None


class Catalog(msgspec.Struct, kw_only=True):
    title: dict[str, str]
    publisher: str
    datasets: list[DatasetEntry]


CATALOG_TITLE = {"vi": "Dữ liệu mở Truy xuất & Du lịch Thái Nguyên", "en": "Thái Nguyên Trace & Tour open data"}
CATALOG_DESCRIPTION = {
    "vi": "Dữ liệu mở về nông sản, sản phẩm OCOP có truy xuất nguồn gốc và di tích, điểm tham quan của tỉnh "
    "Thái Nguyên, do hệ thống Truy xuất & Du lịch Thái Nguyên công bố theo giấy phép CC-BY-4.0. "
    "Không có dữ liệu cá nhân.",
    "en": "Open data on traceable farm and OCOP products and on heritage sites of Thái Nguyên province, "
    "published by Thái Nguyên Trace & Tour under CC-BY-4.0. No personal data.",
}
PUBLISHER = {"vi": "UBND tỉnh Thái Nguyên", "en": "Thái Nguyên Provincial People's Committee"}

# A domain registers (dataset, last_updated) pairs: last_updated reads the newest change from the database.
LastUpdated = Callable[[Any], Any]


async def published_datasets(state: State) -> list[PublishedDataset]:
    """Every registered dataset with its public URL and newest change, in registration order."""
    base = state.settings.base_url
    providers: Sequence[tuple[Dataset, LastUpdated]] = state.open_datasets
    published: list[PublishedDataset] = []
    async with state.read_pool.acquire() as conn:  # public: a replica's slight lag is fine
        for dataset, last_updated in providers:
            published.append(
                PublishedDataset(dataset=dataset, url=f"{base}{dataset.path}", last_updated=await last_updated(conn))
            )
    return published


def _entry(item: PublishedDataset) -> DatasetEntry:
    dataset = item.dataset
    return DatasetEntry(
        id=dataset.id,
        title=dataset.title,
        description=dataset.description,
        url=item.url,
        media_type=dataset.media_type,
        licence=dataset.licence,
        licence_url=dataset.licence_url,
        columns=[
            ColumnEntry(name=c.name, description=c.description["en"], descriptions=c.description, type=c.type)
            for c in dataset.columns
        ],
        last_updated=item.last_updated,
    )


def catalog_json(published: Sequence[PublishedDataset]) -> Catalog:
    """Our own catalogue format, kept for the apps that read /open-data/catalog.json."""
    return Catalog(
        title=CATALOG_TITLE,
        publisher=f"{PUBLISHER['vi']} / {PUBLISHER['en']}",
        datasets=[_entry(item) for item in published],
    )
