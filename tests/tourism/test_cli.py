"""`python -m service seed` and `python -m service narrate`, run through main() against the test database."""

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import pytest

from service.__main__ import main
from service.settings import Settings
from tests.conftest import TEST_JWT_SECRET
from tests.support.tourism import Client
from tests.support.webvtt import check_webvtt

BASE = "https://trace.example.vn"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() points the service's loggers at this test's stderr; put them back afterwards."""
    saved = {
        name: (list(logger.handlers), logger.level, logger.propagate)
        for name in ("service", "pgserver")
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def cli_environ(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "ENV": "test",
        "DATABASE_URL": str(settings.database_url),
        "MEDIA_DIR": settings.media_dir,
        "JWT_SECRET": TEST_JWT_SECRET,
        "PUBLIC_BASE_URL": BASE,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


async def run_cli(argv: list[str], environ: dict[str, str]) -> int:
    """main() runs its own event loop (asyncio.run), so it gets a thread of its own."""
    return await asyncio.to_thread(main, argv, environ)


async def row_counts(db: asyncpg.Connection) -> dict[str, int]:
    tables = await db.fetch(
        "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'"
    )
    return {t["table_name"]: await db.fetchval(f'select count(*) from "{t["table_name"]}"') for t in tables}


async def stored_keys(db: asyncpg.Connection) -> set[str]:
    rows = await db.fetch("select storage_key from media union all select storage_key from media_renditions")
    return {r["storage_key"] for r in rows}


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_seed_cli_stores_media_once(
    db: asyncpg.Connection, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = cli_environ(settings)
    assert await run_cli(["seed"], environ) == 0
    tourism_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("tourism seed"))
    assert "40 audio files, 3 models and 24 drawn photos in the local media store" in tourism_line
    counts = await row_counts(db)
    files = files_under(Path(settings.media_dir))
    # every stored object is a media item or one of a photo's smaller copies, and each has its file
    assert counts["media_renditions"] > 0
    assert len(files) == counts["media"] + counts["media_renditions"]
    assert {p.relative_to(settings.media_dir).as_posix() for p in files} == await stored_keys(db)
    assert await db.fetchval("select count(*) from tourism_tracks where media_id is null") == 0
    versions = await db.fetch("select slug, version from tourism_sites order by slug")

    assert await run_cli(["seed"], environ) == 0
    assert tourism_line in capsys.readouterr().out.splitlines()
    assert await row_counts(db) == counts
    assert files_under(Path(settings.media_dir)) == files
    assert await db.fetch("select slug, version from tourism_sites order by slug") == versions


async def test_seed_cli_into_s3(db: asyncpg.Connection, s3_settings: Settings) -> None:
    environ = cli_environ(
        s3_settings,
        MEDIA_STORE="s3",
        S3_BUCKET=str(s3_settings.s3_bucket),
        S3_ENDPOINT_URL=str(s3_settings.s3_endpoint_url),
        S3_ACCESS_KEY_ID="test",
        S3_SECRET_ACCESS_KEY="test",
        S3_REGION="us-east-1",
    )

    def bucket_keys() -> list[str]:
        client = boto3.client(
            "s3",
            endpoint_url=s3_settings.s3_endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        try:
            listing: dict[str, Any] = dict(client.list_objects_v2(Bucket=str(s3_settings.s3_bucket)))
            return sorted(item["Key"] for item in listing.get("Contents", []))
        finally:
            client.close()

    assert await run_cli(["seed"], environ) == 0
    keys = await asyncio.to_thread(bucket_keys)
    assert len(keys) > 43  # 40 tracks + 3 models, and the drawn photos with their copies
    assert set(keys) == await stored_keys(db)
    media = await db.fetchval("select count(*) from media")
    assert await run_cli(["seed"], environ) == 0
    assert await asyncio.to_thread(bucket_keys) == keys
    assert await db.fetchval("select count(*) from media") == media
    assert files_under(Path(s3_settings.media_dir)) == []


async def test_narrate_cli_fills_a_missing_track_once(
    db: asyncpg.Connection, settings: Settings, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = cli_environ(settings)
    assert await run_cli(["seed"], environ) == 0
    missing = await db.fetchrow(
        """
        delete from tourism_tracks t using tourism_points p, tourism_sites s
        where p.id = t.point_id and s.id = p.site_id and s.slug = 'ho-nui-coc' and p.slug = 'ben-thuyen'
          and t.lang = 'en'
        returning t.point_id
        """
    )
    assert missing is not None
    capsys.readouterr()

    assert await run_cli(["narrate", "--site", "ho-nui-coc", "--lang", "en"], environ) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "narrated 1 machine-generated track for ho-nui-coc in en"
    assert "1/1" in err  # the progress bar
    track = await db.fetchrow(
        """
        select t.id, t.origin, t.narrator, t.sha256, m.status, m.storage_key, m.sha256 as media_sha256
        from tourism_tracks t join media m on m.id = t.media_id
        where t.point_id = $1 and t.lang = 'en'
        """,
        missing["point_id"],
    )
    assert track is not None
    assert (track["origin"], track["status"]) == ("machine", "ready")
    assert track["media_sha256"] == track["sha256"]
    assert (Path(settings.media_dir) / track["storage_key"]).is_file()

    site = (await client.get("/api/v1/sites/ho-nui-coc?lang=en")).json()
    point = next(p for p in site["points"] if p["slug"] == "ben-thuyen")
    ref = next(t for t in point["tracks"] if t["lang"] == "en")
    assert ref["machine_generated"] is True
    vtt = await client.get(ref["vtt_url"].removeprefix(BASE))
    assert vtt.status_code == 200
    cues = check_webvtt(vtt.text)
    assert cues
    assert all(end > start for start, end, _ in cues)
    audio = await client.get(ref["url"].removeprefix(BASE), headers={"Range": "bytes=0-3"})
    assert (audio.status_code, audio.content) == (206, b"OggS")

    counts = await row_counts(db)
    files = files_under(Path(settings.media_dir))
    assert await run_cli(["narrate", "--site", "ho-nui-coc", "--lang", "en"], environ) == 0
    assert capsys.readouterr().out.strip() == "narrated 0 machine-generated tracks for ho-nui-coc in en (none missing)"
    assert await row_counts(db) == counts
    assert files_under(Path(settings.media_dir)) == files


@pytest.mark.parametrize(
    ("site", "lang", "message"),
    [
        ("khong-co", "en", "error: there is no site 'khong-co'"),
        ("ho-nui-coc", "fr", "error: the text-to-speech engine speaks en, vi, not 'fr'"),
        ("ho-nui-coc", "xx", "error: 'xx' is not a language code we know"),
    ],
)
async def test_narrate_cli_refuses_unknown_site_or_language(
    settings: Settings, capsys: pytest.CaptureFixture[str], site: str, lang: str, message: str
) -> None:
    assert await run_cli(["narrate", "--site", site, "--lang", lang], cli_environ(settings)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(message)
