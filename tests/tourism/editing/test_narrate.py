"""Narration fills the tracks a site is missing, once, as machine-voiced media items."""

from pathlib import Path

import asyncpg
import pytest

from service.core.db import init_connection
from service.core.errors import InvalidInput
from service.tourism.editing.narrate import narrate_site
from tests.support.tourism import SITE, Client, local_store


async def test_narrate_fills_missing_tracks_only(
    client: Client, editor: dict[str, str], draft_site: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await init_connection(db)
    store = local_store(tmp_path / "media")
    seen: list[tuple[int, int, str]] = []
    made = await narrate_site(db, store, SITE, "en", lambda done, total, label: seen.append((done, total, label)))
    assert made == 1  # p2 has English text but only a vi track; p1 and p3 already have English
    assert seen[-1] == (1, 1, "p2")
    row = await db.fetchrow(
        "select t.origin, t.mime, t.duration_s, t.cues, t.narrator from tourism_tracks t "
        "join tourism_points p on p.id = t.point_id where p.slug = 'p2' and t.lang = 'en'"
    )
    assert row is not None
    assert row["origin"] == "machine"
    assert row["mime"] == "audio/ogg"
    assert row["duration_s"] > 0.2
    assert row["cues"][0]["text"] == "Hi."
    media = await db.fetchrow(
        "select m.purpose, m.content_type, m.storage_key, u.is_active from tourism_tracks t "
        "join tourism_points p on p.id = t.point_id join media m on m.id = t.media_id "
        "join users u on u.id = m.owner_id "
        "where p.slug = 'p2' and t.lang = 'en'"
    )
    assert media is not None
    assert (media["purpose"], media["content_type"], media["is_active"]) == ("audio_track", "audio/ogg", False)
    assert store.path_for(media["storage_key"]).read_bytes().startswith(b"OggS")
    assert await narrate_site(db, store, SITE, "en", None) == 0
    with pytest.raises(InvalidInput):
        await narrate_site(db, store, SITE, "fr", None)
