"""The open-data catalogue: each domain describes its datasets; this module lists them."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State

LICENCE = "CC-BY-4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


class Column(msgspec.Struct, frozen=True):
    name: str
    description: str
    type: str = "string"


class Dataset(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: dict[str, str]
    description: dict[str, str]
    path: str
    media_type: str
    columns: list[Column]
    licence: str = LICENCE
    licence_url: str = LICENCE_URL


class DatasetEntry(msgspec.Struct, kw_only=True):
    id: str
    title: dict[str, str]
    description: dict[str, str]
    url: str
    media_type: str
    licence: str
    licence_url: str
    columns: list[Column]
    last_updated: datetime | None


class Catalog(msgspec.Struct, kw_only=True):
    title: dict[str, str]
    publisher: str
    datasets: list[DatasetEntry]


# A domain registers (dataset, last_updated) pairs: last_updated reads the newest change from the database.
LastUpdated = Callable[[Any], Any]


class OpenDataCatalogController(Controller):
    path = "/open-data"
    tags = ["open data"]

    @get("/catalog.json", operation_id="open_data_catalog", exclude_from_auth=True, cache_control=None)
    async def catalog(self, request: Request[Any, Any, Any], state: State) -> Catalog:
        """Every dataset the province publishes from this service, with licence and columns."""
        base = state.settings.base_url
        providers: Sequence[tuple[Dataset, LastUpdated]] = state.open_datasets
        entries: list[DatasetEntry] = []
        async with state.read_pool.acquire() as conn:
            for dataset, last_updated in providers:
                entries.append(
                    DatasetEntry(
                        id=dataset.id,
                        title=dataset.title,
                        description=dataset.description,
                        url=f"{base}{dataset.path}",
                        media_type=dataset.media_type,
                        licence=dataset.licence,
                        licence_url=dataset.licence_url,
                        columns=dataset.columns,
                        last_updated=await last_updated(conn),
                    )
                )
        return Catalog(
            title={"vi": "Dữ liệu mở Truy xuất & Du lịch Thái Nguyên", "en": "Thái Nguyên Trace & Tour open data"},
            publisher="UBND tỉnh Thái Nguyên / Thái Nguyên Provincial People's Committee",
            datasets=entries,
        )
