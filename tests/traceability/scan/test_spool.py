"""The scan spool: a dead worker's file is replayed by the next one, exactly once; a live worker's is left alone;
past its bound it refuses, and says so."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY

from service.app import create_app
from service.settings import Settings
from service.traceability.scan.scans import Scan
from service.traceability.scan.spool import ScanSpool
from tests.support.app import flush
from tests.support.factories import scan_count, stored_batch, stored_organization


def _scans(batch_id: uuid.UUID, count: int) -> list[Scan]:
    return [Scan(batch_id, None, datetime.now(UTC), 21.59, 105.77, "android", True, bytes(16)) for _ in range(count)]


def _refused() -> float:
    return REGISTRY.get_sample_value("trace_tour_scans_refused_total") or 0.0


async def test_a_stopped_workers_spool_is_replayed_once_and_a_live_workers_is_left_alone(
    db: asyncpg.Connection, settings: Settings
) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    directory = Path(settings.scan_spool_dir)
    dead = ScanSpool(directory, Scan, max_bytes=1 << 20)
    assert dead.append(_scans(batch["id"], 5)) == 0
    (left,) = dead.files
    first_two = sum(len(line) for line in left.path.read_bytes().splitlines(keepends=True)[:2])
    dead.close()  # the process stops with its scans on disk (its lock goes with it)
    # it had replayed two of them, in the same transaction as its offset, before it died
    await db.execute(
        "insert into scan_spool_replays (file_name, replayed_bytes) values ($1, $2)", left.path.name, first_two
    )
    alive = ScanSpool(directory, Scan, max_bytes=1 << 20)
    alive.append(_scans(batch["id"], 7))  # another worker, still running: its file is locked
    try:
        app: Litestar = create_app(settings)
        async with AsyncTestClient(app=app, base_url="https://trace.example.vn"):
            await flush(app)
        assert await scan_count(db) == 3, "the three not yet replayed, once; none of the live worker's"
        assert not left.path.exists()
        assert alive.files[0].path.exists()
        assert await db.fetchval("select count(*) from scan_spool_replays") == 0
    finally:
        alive.close()


async def test_past_its_bound_the_spool_refuses_and_counts(tmp_path: Path) -> None:
    spool = ScanSpool(tmp_path / "spool", Scan, max_bytes=400)
    before = _refused()
    refused = spool.append(_scans(uuid.uuid4(), 10))
    assert 0 < refused < 10
    assert spool.files[0].size <= 400
    assert _refused() - before == refused
    kept, _ = spool.files[0].read_chunk(0)
    assert len(kept) == 10 - refused
    spool.close()
    assert list((tmp_path / "spool").iterdir()), "scans still waiting stay for the next worker"
