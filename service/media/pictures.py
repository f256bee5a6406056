"""Photos as the public pages draw them: `<img>` with `srcset`/`sizes`, width and height, lazy-loaded.

The copies come from `renditions` (made once at upload); their addresses never change for a media id, so
they are served with a year-long immutable cache. A photo completed before copies existed falls back to its
original alone.
"""

import uuid

import asyncpg
import msgspec

from service.core.html_page import e
from service.media.queries import ready_pictures

# a page's column is 40rem (640 px) at most; below that the photo fills the screen less the margins
COLUMN_SIZES = "(max-width: 42rem) calc(100vw - 2rem), 40rem"
THUMB_SIZES = "6rem"
# when nothing is known of a photo's shape: the 4:3 of most phone cameras
_FALLBACK_SIZE = (800, 600)
_PREFERRED_SRC_WIDTH = 640


class Picture(msgspec.Struct, frozen=True, kw_only=True):
    """A ready photo: `src` (a copy about a phone's width, else the original), `srcset`, and its drawn size."""

    id: uuid.UUID
    url: str
    src: str
    srcset: str
    width: int
    height: int


def media_path(base_url: str, media_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/api/v1/media/{media_id}"


def rendition_path(base_url: str, media_id: uuid.UUID, width: int) -> str:
    return f"{media_path(base_url, media_id)}/w/{width}"


async def media_pictures(conn: asyncpg.Connection, base_url: str, media_ids: list[uuid.UUID]) -> list[Picture]:
    """The ready photos among the ids, in the order given (one query)."""
    if not media_ids:
        return []
    found = {row.id: row for row in await ready_pictures(conn, media_ids)}
    pictures = []
    for media_id in dict.fromkeys(media_ids):
        row = found.get(media_id)
        if row is None:
            continue
        original = media_path(base_url, media_id)
        width, height = (row.width, row.height) if row.width and row.height else _FALLBACK_SIZE
        copies = zip(row.copy_widths, row.copy_heights, strict=True)
        candidates = [(rendition_path(base_url, media_id, w), w, h) for w, h in copies]
        if row.width and row.height:
            candidates.append((original, row.width, row.height))
        src, src_w, src_h = original, width, height
        for url, w, h in candidates:  # the narrowest copy at least a phone's width wide, else the widest there is
            src, src_w, src_h = url, w, h
            if w >= _PREFERRED_SRC_WIDTH:
                break
        srcset = ", ".join(f"{url} {w}w" for url, w, _ in candidates) if len(candidates) > 1 else ""
        pictures.append(Picture(id=media_id, url=original, src=src, srcset=srcset, width=src_w, height=src_h))
    return pictures


def img_html(picture: Picture, alt: str, *, sizes: str = COLUMN_SIZES, lazy: bool = True) -> str:
    """One `<img>`: width/height reserve its box (no layout shift); lazy below the fold."""
    srcset = f' srcset="{e(picture.srcset)}" sizes="{e(sizes)}"' if picture.srcset else ""
    loading = ' loading="lazy"' if lazy else ""
    return (
        f'<img src="{e(picture.src)}"{srcset} width="{picture.width}" height="{picture.height}"{loading} '
        f'decoding="async" alt="{e(alt)}">'
    )
