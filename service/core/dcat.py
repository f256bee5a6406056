"""The W3C DCAT 3 catalogue of every open dataset, as JSON-LD, for portals that harvest DCAT.

The context is written inline (the usual DCAT prefixes, as in the W3C recommendation's own examples) so a
harvester needs to fetch nothing to read it; every property is a full DCAT, Dublin Core or FOAF term.
Titles and descriptions are language-tagged (vi, en). Frequencies come from the EU frequency authority
table and media types are IANA IRIs, as DCAT 3 recommends; each CSV distribution conforms to Table Schema
and is described by its resource in the Frictionless data package (`core.datapackage`).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from service.core import datapackage
from service.core.catalog import (
    CATALOG_DESCRIPTION,
    CATALOG_TITLE,
    PUBLISHER,
    Frequency,
    PublishedDataset,
)

MEDIA_TYPE = "application/ld+json"
PATH = "/open-data/catalog.jsonld"

CONTEXT: Final = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "geosparql": "http://www.opengis.net/ont/geosparql#",
}
_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCIES: Final[dict[Frequency, str]] = {
    "continuous": _FREQUENCY + "UPDATE_CONT",
    "daily": _FREQUENCY + "DAILY",
    "weekly": _FREQUENCY + "WEEKLY",
    "monthly": _FREQUENCY + "MONTHLY",
    "irregular": _FREQUENCY + "IRREG",
}
LANGUAGES: Final = (
    "http://publications.europa.eu/resource/authority/language/VIE",
    "http://publications.europa.eu/resource/authority/language/ENG",
)
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
# dct:format from the EU file-type authority table: what CKAN-based portals (ckanext-dcat) show as "Format"
_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FILE_TYPES: Final = {"text/csv": "CSV", "application/geo+json": "GEOJSON", "application/json": "JSON"}
# Thái Nguyên province since the 2025 merger (with Bắc Kạn): the bounds the service checks coordinates against
PROVINCE_BBOX: Final = "POLYGON((105.4 21.3,106.3 21.3,106.3 22.8,105.4 22.8,105.4 21.3))"
PROVINCE_NAME: Final = {"vi": "Tỉnh Thái Nguyên, Việt Nam", "en": "Thái Nguyên province, Viet Nam"}


def tagged(text: dict[str, str]) -> list[dict[str, str]]:
    """Language-tagged literals, Vietnamese first."""
    return [{"@value": text[lang], "@language": lang} for lang in ("vi", "en") if lang in text]


def _date_time(value: datetime) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def build(published: Sequence[PublishedDataset], *, base_url: str) -> dict[str, Any]:
    """The catalogue with one dcat:Dataset per registered dataset, each with its distribution."""
    catalog_id = f"{base_url}{PATH}"
    publisher_id = f"{catalog_id}#publisher"
    spatial_id = f"{catalog_id}#thai-nguyen"
    modified = [item.last_updated for item in published if item.last_updated is not None]
    catalog: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": catalog_id,
        "@type": "dcat:Catalog",
        "dct:title": tagged(CATALOG_TITLE),
        "dct:description": tagged(CATALOG_DESCRIPTION),
        "dct:publisher": {"@id": publisher_id, "@type": "foaf:Agent", "foaf:name": tagged(PUBLISHER)},
        "dct:language": [{"@id": lang} for lang in LANGUAGES],
        "dct:spatial": {
            "@id": spatial_id,
            "@type": "dct:Location",
            "skos:prefLabel": tagged(PROVINCE_NAME),
            "dcat:bbox": {"@value": PROVINCE_BBOX, "@type": "geosparql:wktLiteral"},
        },
        "foaf:homepage": {"@id": f"{base_url}/"},
        "dcat:dataset": [_dataset(item, base_url, publisher_id, spatial_id) for item in published],
    }
    if modified:
        catalog["dct:modified"] = _date_time(max(modified))
    return catalog


def _dataset(item: PublishedDataset, base_url: str, publisher_id: str, spatial_id: str) -> dict[str, Any]:
    dataset = item.dataset
    media_type = dataset.media_type.split(";")[0].strip()
    distribution: dict[str, Any] = {
        "@id": f"{base_url}{PATH}#{dataset.id}-distribution",
        "@type": "dcat:Distribution",
        "dct:title": tagged(dataset.title),
        "dcat:accessURL": {"@id": item.url},
        "dcat:downloadURL": {"@id": item.url},
        "dcat:mediaType": {"@id": MEDIA_TYPES + media_type},
        "dct:license": {"@id": dataset.licence_url},
    }
    if media_type in FILE_TYPES:
        distribution["dct:format"] = {"@id": _FILE_TYPE + FILE_TYPES[media_type]}
    if dataset.tabular:
        distribution["dct:conformsTo"] = {"@id": datapackage.TABLE_SCHEMA}
        distribution["foaf:page"] = {"@id": f"{base_url}{datapackage.PATH}"}
    entry: dict[str, Any] = {
        "@id": f"{base_url}{PATH}#{dataset.id}",
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.id,
        "dct:title": tagged(dataset.title),
        "dct:description": tagged(dataset.description),
        "dct:publisher": {"@id": publisher_id},
        "dct:license": {"@id": dataset.licence_url},
        "dct:language": [{"@id": lang} for lang in LANGUAGES],
        "dct:spatial": {"@id": spatial_id},
        "dct:accrualPeriodicity": {"@id": FREQUENCIES[dataset.frequency]},
        "dcat:distribution": [distribution],
    }
    if dataset.issued is not None:
        entry["dct:issued"] = {"@value": dataset.issued.isoformat(), "@type": "xsd:date"}
    if item.last_updated is not None:
        entry["dct:modified"] = _date_time(item.last_updated)
    if dataset.source is not None:
        entry["dct:provenance"] = {"@type": "dct:ProvenanceStatement", "rdfs:label": tagged(dataset.source)}
    return entry
