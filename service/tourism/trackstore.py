"""Where track audio lives: the narrow interface tourism needs from the media store.

Tracks point at their bytes with `audio_ref`: `seed:<path>` for audio shipped in service/tourism/seed,
`store:<key>` for objects written through a TrackStore. Local stores hand back a file path (served with
Range here); S3 stores hand back a presigned URL (the client is redirected with 307).
"""

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Protocol

from service.settings import Settings

SEED_DIR = Path(__file__).resolve().parent / "seed"


class TrackStore(Protocol):
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def local_path(self, key: str) -> Path | None: ...

    async def presigned_get(self, key: str, expires_s: int) -> str | None: ...


class LocalTrackStore:
    """Files under the media directory, content-addressed keys, atomic writes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def local_path(self, key: str) -> Path | None:
        path = (self.root / key).resolve()
        return path if path.is_relative_to(self.root) else None

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        path = self.local_path(key)
        if path is None:
            raise ValueError(f"storage key {key!r} escapes the media directory")

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)

        await asyncio.to_thread(write)

    async def presigned_get(self, key: str, expires_s: int) -> str | None:
        return None


def track_store(state: Any) -> TrackStore:
    """The app's media store when it offers what tracks need, else local files in MEDIA_DIR."""
    store = getattr(state, "media_store", None)
    if store is not None and all(hasattr(store, name) for name in ("put_bytes", "local_path", "presigned_get")):
        return store  # type: ignore[no-any-return]
    settings: Settings = state.settings
    return LocalTrackStore(Path(settings.media_dir))


def seed_path(ref: str) -> Path | None:
    """The file of a `seed:` reference, refusing anything outside the seed directory."""
    if not ref.startswith("seed:"):
        return None
    path = (SEED_DIR / ref.removeprefix("seed:")).resolve()
    return path if path.is_relative_to(SEED_DIR) else None


def store_key(ref: str) -> str | None:
    return ref.removeprefix("store:") if ref.startswith("store:") else None


def read_file(path: Path) -> bytes | None:
    with contextlib.suppress(OSError):
        return path.read_bytes()
    return None
