"""The S3 server stopped: media routes that need it answer 503 within seconds; everything else is unaffected."""

import hashlib
import socket
import time
import uuid

import msgspec
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.storage.s3 import build_s3_client
from tests.support.app import UserFactory
from tests.support.factories import assert_problem


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_media_fail_fast_with_a_problem_while_s3_is_away(settings: Settings, make_user: UserFactory) -> None:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    stopped = False
    try:
        s3 = msgspec.structs.replace(
            settings,
            media_store="s3",
            s3_endpoint_url=f"http://127.0.0.1:{port}",
            s3_bucket=f"media-{uuid.uuid4().hex[:12]}",
            s3_access_key_id="test",
            s3_secret_access_key="test",
            s3_region="us-east-1",
        )
        client_s3 = build_s3_client(s3)
        client_s3.create_bucket(Bucket=s3.s3_bucket or "")
        client_s3.close()
        farmer = await make_user("farmer")
        async with AsyncTestClient(app=create_app(s3), base_url="https://trace.example.vn") as client:
            body = {
                "purpose": "product_photo",
                "content_type": "image/png",
                "bytes": 100,
                "sha256": hashlib.sha256(b"x").hexdigest(),
            }
            declared = await client.post("/api/v1/media", json=body, headers=farmer)
            assert declared.status_code == 201
            moto.stop()
            stopped = True
            started = time.monotonic()
            completed = await client.post(f"/api/v1/media/{declared.json()['id']}/complete", headers=farmer)
            took = time.monotonic() - started
            assert_problem(completed, 503, "storage_unavailable")
            assert completed.headers["retry-after"] == "30"
            assert took < 15, f"the media route waited {took:.1f} s on a stopped S3 server"
            # what does not need the object store goes on as before
            assert (await client.get("/health/ready")).status_code == 200
            assert (await client.post("/api/v1/media", json=body, headers=farmer)).status_code == 201
            assert (await client.get("/api/v1/me", headers=farmer)).status_code == 200
            print(f"\ns3 outage figures: media completion answered 503 in {took:.2f} s")
    finally:
        if not stopped:
            moto.stop()
