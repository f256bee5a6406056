"""`python -m service verify-log` against the real service: honest growth passes, a database rewrite is named."""

import asyncio
import base64
import hashlib
import io
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service.__main__ import granian_command
from service.app import create_app
from service.settings import Settings
from service.traceability.transparency.audit import verify_log
from tests.conftest import TEST_JWT_SECRET
from tests.support import factories as f
from tests.support.tamper import rewrite_event, rewrite_leaves_to_match

SIGNING_KEY = base64.b64encode(hashlib.sha256(b"verify-log test key").digest()).decode()
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, log_signing_key=SIGNING_KEY, log_checkpoint_max_age_seconds=0)


async def seeded(client: f.Client, make_user: Any) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """Two batches of one farm: tea leaves (commissioned, stored, packed) and pomelos (commissioned, stored)."""
    headers, _ = await f.farm(client, make_user)
    product = await f.product(client, headers)
    tea = await f.batch(client, headers, product["id"], notes="Chè búp hái sáng")
    for step in ("storing", "packing"):
        await f.event(client, headers, tea["id"], biz_step=step, notes=f"ghi chú {step}")
    pomelo = await f.batch(client, headers, product["id"])
    await f.event(client, headers, pomelo["id"], biz_step="storing")
    return headers, tea, pomelo


async def save_checkpoint(client: httpx.AsyncClient, path: Path) -> dict[str, Any]:
    response = await client.get("/transparency/checkpoint")
    assert response.status_code == 200, response.text
    await asyncio.to_thread(path.write_bytes, response.content)
    return dict(response.json())


async def run(client: httpx.AsyncClient, checkpoint: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = await verify_log(client, checkpoint, out)
    return code, out.getvalue()


async def test_honest_growth_verifies_and_a_database_rewrite_is_caught_and_named(
    client: f.Client, db: asyncpg.Connection, make_user: Any, tmp_path: Path
) -> None:
    headers, tea, pomelo = await seeded(client, make_user)
    saved = tmp_path / "checkpoint.json"
    assert (await save_checkpoint(client, saved))["tree_size"] == 5
    # honest appends after the saved checkpoint: a new event and a new batch
    await f.event(client, headers, tea["id"], biz_step="shipping", destination="Chợ Đồng Xuân")
    await f.batch(client, headers, tea["product_id"])
    code, output = await run(client, saved)
    assert code == 0, output
    assert "checked 7 leaves of 3 batches" in output
    assert "OK" in output

    # someone with the database credentials rewrites the tea's second event and recomputes its chain
    await rewrite_event(db, tea["id"], 2, {"notes": "đã bảo quản lạnh (sửa lại)"})
    report = (await client.get(f"/api/v1/batches/{tea['id']}/verify", headers=headers)).json()
    assert report["valid"] is True  # the batch's own check is fooled
    code, output = await run(client, saved)
    assert code == 1, output
    assert f"batch {tea['code']}: REWRITTEN: the head logged at seq 2" in output
    assert f"rewritten batches / lô bị sửa: {tea['code']}\n" in output
    assert pomelo["code"] not in output
    assert "VERIFICATION FAILED" in output


async def test_rewriting_the_log_too_breaks_consistency_with_the_saved_checkpoint(
    client: f.Client, db: asyncpg.Connection, make_user: Any, settings: Settings, tmp_path: Path
) -> None:
    headers, tea, _ = await seeded(client, make_user)
    saved = tmp_path / "checkpoint.json"
    await save_checkpoint(client, saved)
    await rewrite_event(db, tea["id"], 1, {"notes": "giống chè khác"})
    await rewrite_leaves_to_match(db, tea["id"])
    # the service restarts (nothing remembered in memory) and serves what the database now says
    async with AsyncTestClient(app=create_app(settings), base_url="https://trace.example.vn") as restarted:
        code, output = await run(restarted, saved)
        assert code == 1, output
        assert "the leaves served do not rebuild the signed root hash" in output  # the stored checkpoint of 5
        # the log grows: the next checkpoint is signed over the rewritten leaves
        await f.event(restarted, headers, tea["id"], biz_step="shipping")
        code, output = await run(restarted, saved)
    assert code == 1, output
    assert "REWRITTEN LOG: the tree of 6 leaves does not extend the saved one of 5" in output
    assert f"rewritten batches / lô bị sửa: {tea['code']}" not in output  # its public chain matches the forged log


async def test_a_checkpoint_from_another_key_or_an_unreadable_file_is_refused(
    client: f.Client, make_user: Any, tmp_path: Path
) -> None:
    await seeded(client, make_user)
    saved = tmp_path / "checkpoint.json"
    checkpoint = await save_checkpoint(client, saved)
    forged = {**checkpoint, "root_hash": "00" * 32}
    saved.write_bytes(msgspec.json.encode(forged))
    code, output = await run(client, saved)
    assert code == 1
    assert "not signed by the log's published key" in output
    saved.write_text("{not json")
    code, output = await run(client, saved)
    assert code == 2
    assert "cannot read a checkpoint" in output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[str]:
    """The service under granian on loopback, on the test's database, as `python -m service serve` runs it."""
    port = free_port()
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.database_url or "",
        "JWT_SECRET": TEST_JWT_SECRET,
        "PUBLIC_BASE_URL": settings.public_base_url,
        "LOG_SIGNING_KEY": SIGNING_KEY,
        "LOG_CHECKPOINT_MAX_AGE_SECONDS": "0",
        "DB_POOL_MIN": "0",
        "MEDIA_DIR": settings.media_dir,
    }
    process = await asyncio.create_subprocess_exec(
        *granian_command("service.asgi:build", "127.0.0.1", port, 1),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as probe:
            for _ in range(150):
                try:
                    if (await probe.get("/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the server did not start")
        yield base
    finally:
        process.terminate()
        await process.wait()


async def cli(base: str, checkpoint: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "service", "verify-log", "--base-url", base, "--checkpoint", str(checkpoint)),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_command_against_a_real_server(
    client: f.Client, db: asyncpg.Connection, make_user: Any, server: str, tmp_path: Path
) -> None:
    _, tea, pomelo = await seeded(client, make_user)
    saved = tmp_path / "checkpoint.json"
    async with httpx.AsyncClient(base_url=server) as public:
        await save_checkpoint(public, saved)
    status, output = await cli(server, saved)
    assert status == 0, output
    await rewrite_event(db, pomelo["id"], 2, {"notes": "đổi kho"})
    status, output = await cli(server, saved)
    assert status == 1, output
    assert f"rewritten batches / lô bị sửa: {pomelo['code']}" in output
    assert tea["code"] not in output
