"""Diacritic-insensitive search over published sites and points (and OCOP products, when wired).

The embedded PostgreSQL has no `unaccent`, so the service stores folded text (search_name, search_body)
and PostgreSQL indexes it as a 'simple' tsvector; queries are folded the same way in Python.
"""

import re
import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
from msgspec import Meta

from service.tourism.languages import pick_language
from service.tourism.ports import ProductSearch
from service.tourism.sites import queries

_WORD = re.compile(r"[^\W_]+")
# NFKD leaves đ/Đ alone (the bar is not a combining mark), and a few other letters Vietnamese
# users type without their marks.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})

SearchQuery = Annotated[str, Meta(min_length=1, max_length=200)]


def fold_for_search(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces: 'Hồ Núi Cốc' -> 'ho nui coc'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped.casefold()))


def fold_all(parts: Iterable[str]) -> str:
    return " ".join(folded for folded in (fold_for_search(part) for part in parts) if folded)


def tsquery_of(q: str) -> str | None:
    """Every folded word must match, the last one as a prefix (people type as they search)."""
    words = fold_for_search(q).split()
    if not words:
        return None
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


class SearchHit(msgspec.Struct, kw_only=True):
    kind: Literal["site", "point", "product"]
    title: str
    summary: str
    url: str
    score: float
    lang: str
    site: str | None = None
    lat: float | None = None
    lon: float | None = None


class SearchResults(msgspec.Struct, kw_only=True):
    q: str
    lang: str
    results: list[SearchHit]


def _site_url(base_url: str, site_slug: str) -> str:
    return f"{base_url}/api/v1/sites/{site_slug}"


async def search_places(
    conn: asyncpg.Connection,
    q: str,
    lang: str,
    *,
    base_url: str,
    limit: int = 20,
    products: ProductSearch | None = None,
) -> SearchResults:
    """Sites and points ranked by match (a whole-phrase match in a name counts most), merged with products."""
    query = tsquery_of(q)
    hits: list[SearchHit] = []
    if query is not None:
        for row in await queries.search_published_places(conn, query, fold_for_search(q), limit):
            picked = pick_language(row.texts, lang)
            text: dict[str, Any] = picked[1] if picked else {}
            served = picked[0] if picked else lang
            is_site = row.kind == "site"
            title = str(text.get("name") if is_site else text.get("title") or "")
            body = str(text.get("summary") if is_site else text.get("text") or "")
            url = _site_url(base_url, row.site_slug)
            if not is_site:
                url = f"{url}/points#{row.slug}"
            hits.append(
                SearchHit(
                    kind="site" if is_site else "point",
                    title=title,
                    summary=body[:280],
                    url=url,
                    score=round(row.score, 4),
                    lang=served,
                    site=row.site_slug,
                    lat=row.lat,
                    lon=row.lon,
                )
            )
    if products is not None:
        for product in await products.search(q, lang, limit):
            hits.append(
                SearchHit(
                    kind="product",
                    title=product.name,
                    summary=product.summary,
                    url=product.url,
                    score=round(product.score, 4),
                    lang=lang,
                )
            )
    hits.sort(key=lambda hit: -hit.score)
    return SearchResults(q=q, lang=lang, results=hits[:limit])
