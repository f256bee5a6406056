"""The open-data catalogues over HTTP: our JSON (for the apps), the Frictionless data package, DCAT in JSON-LD.

All three read the one register (`core.catalog`, `state.open_datasets`), so a dataset a domain registers
appears in each without touching this module.
"""

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from service.core import datapackage, dcat
from service.core.catalog import Catalog, catalog_json, published_datasets

_PUBLIC = {"Cache-Control": "public, max-age=300"}


class OpenDataCatalogController(Controller):
    path = "/open-data"
    tags = ["open data"]

    @get("/catalog.json", operation_id="open_data_catalog", exclude_from_auth=True, cache_control=None)
    async def catalog(self, state: State) -> Catalog:
        """Every dataset the province publishes from this service, with licence and columns."""
        return catalog_json(await published_datasets(state))

    @get(
        "/datapackage.json",
        operation_id="open_data_datapackage",
        exclude_from_auth=True,
        media_type=datapackage.MEDIA_TYPE,
    )
    async def data_package(self, state: State) -> Response[dict[str, Any]]:
        """Every published CSV as a Frictionless Tabular Data Package: Table Schema, licence, sources."""
        document = datapackage.build(await published_datasets(state), base_url=state.settings.base_url)
        return Response(document, media_type=datapackage.MEDIA_TYPE, headers=_PUBLIC)

    @get("/catalog.jsonld", operation_id="open_data_dcat", exclude_from_auth=True, media_type=dcat.MEDIA_TYPE)
    async def dcat_catalog(self, state: State) -> Response[dict[str, Any]]:
        """Every dataset as a W3C DCAT 3 catalogue in JSON-LD, for open-data portals to harvest."""
        document = dcat.build(await published_datasets(state), base_url=state.settings.base_url)
        return Response(document, media_type=dcat.MEDIA_TYPE, headers=_PUBLIC)

    @get(
        "/catalog",
        operation_id="open_data_catalog_negotiated",
        exclude_from_auth=True,
        status_code=HTTP_303_SEE_OTHER,
    )
    async def negotiated_catalog(self, request: Request[Any, Any, Any]) -> Redirect:
        """The catalogue by content negotiation: DCAT JSON-LD for `Accept: application/ld+json`, else our JSON."""
        wanted = request.accept.best_match(["application/json", dcat.MEDIA_TYPE], default="application/json")
        target = "catalog.jsonld" if wanted == dcat.MEDIA_TYPE else "catalog.json"
        return Redirect(f"/open-data/{target}", status_code=HTTP_303_SEE_OTHER, headers={"Vary": "Accept"})
