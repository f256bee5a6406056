"""QR images (PNG, SVG) of a URI, rendered off the event loop and kept in a bounded in-process LRU.

The module matrix comes from the qrcode library; PNG and SVG are drawn from it directly (one PIL
resize, one SVG path), which is several times faster than qrcode's per-module image factories.
"""

import asyncio
import hashlib
import io
import threading
from collections import OrderedDict
from typing import Annotated, Literal

import msgspec
import qrcode
import qrcode.constants
import qrcode.exceptions
from msgspec import Meta
from PIL import Image

QRFormat = Literal["png", "svg"]
ErrorCorrection = Literal["L", "M", "Q", "H"]

_EC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}

MIN_SIZE, MAX_SIZE = 64, 2048
# ISO/IEC 18004 asks for 4 modules of quiet zone; callers who add their own margin may ask for less.
MAX_QUIET_ZONE = 16

Size = Annotated[int, Meta(ge=MIN_SIZE, le=MAX_SIZE, description="Largest edge of the image, in pixels")]
QuietZone = Annotated[int, Meta(ge=0, le=MAX_QUIET_ZONE, description="Blank modules around the code")]


class QROptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to draw a code; validated bounds, so absurd sizes never reach the renderer."""

    size: Size = 512
    quiet_zone: QuietZone = 4
    error_correction: ErrorCorrection = "M"


def qr_matrix(
    content: str, *, quiet_zone: int = 4, error_correction: ErrorCorrection = "M", fast: bool = False
) -> list[list[bool]]:
    """The module matrix (True = dark), quiet zone included.

    `fast` fixes the mask pattern instead of scoring all eight (6x faster, still a valid code that
    any reader decodes): label sheets draw thousands of codes, single images are cached anyway.
    """
    code = qrcode.QRCode(
        border=quiet_zone, error_correction=_EC_LEVELS[error_correction], mask_pattern=0 if fast else None
    )
    code.add_data(content.encode("utf-8"))
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


class SheetEncoder:
    """QR matrices for many contents of about the same length (a label sheet): one encoder, reused.

    The version is fitted once, on the longest content, and the mask pattern is fixed (`qr_matrix(fast=True)`):
    fitting and mask scoring were most of a 1,000-label sheet's time. A content that does not fit the
    sheet's version (it cannot happen with equal-length serials) is fitted on its own.
    """

    def __init__(self, contents: list[str], *, quiet_zone: int = 4, error_correction: ErrorCorrection = "M") -> None:
        self.code = qrcode.QRCode(border=quiet_zone, error_correction=_EC_LEVELS[error_correction], mask_pattern=0)
        longest = max(contents, key=lambda c: len(c.encode("utf-8")), default="")
        self.code.add_data(longest.encode("utf-8"))
        self.code.best_fit()
        self.version: int = self.code.version

    def matrix(self, content: str) -> list[list[bool]]:
        code = self.code
        code.clear()
        code.add_data(content.encode("utf-8"))
        code.version = self.version
        try:
            code.make(fit=False)
        except qrcode.exceptions.DataOverflowError:
            code.make(fit=True)
        matrix: list[list[bool]] = code.get_matrix()
        return matrix


def matrix_image(matrix: list[list[bool]], box: int) -> Image.Image:
    """A 1-bit PIL image, `box` pixels per module."""
    n = len(matrix)
    small = Image.new("1", (n, n), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    return small if box == 1 else small.resize((n * box, n * box), Image.Resampling.NEAREST)


def render_png(content: str, options: QROptions) -> bytes:
    matrix = qr_matrix(content, quiet_zone=options.quiet_zone, error_correction=options.error_correction)
    box = max(1, options.size // len(matrix))
    out = io.BytesIO()
    matrix_image(matrix, box).save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_svg(content: str, options: QROptions) -> bytes:
    """One path of horizontal runs; crisp at any scale, a few kilobytes."""
    matrix = qr_matrix(content, quiet_zone=options.quiet_zone, error_correction=options.error_correction)
    n = len(matrix)
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    side = (options.size // n) * n or n
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" viewBox="0 0 {n} {n}" '
        f'shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>\n'
    ).encode()


RENDERERS = {"png": render_png, "svg": render_svg}
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def etag_for(content: str, fmt: QRFormat, options: QROptions) -> str:
    """A strong ETag from what is drawn: the same content and options always give the same bytes."""
    key = f"{fmt}|{options.size}|{options.quiet_zone}|{options.error_correction}|{content}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


class QRCache:
    """Bounded LRU of rendered images keyed on (content, format, options), with in-flight sharing.

    Two requests for the same missing image wait for one render; nothing is rendered twice while it
    stays in the cache. The bound is on total bytes, so a flood of distinct large images cannot grow it.
    """

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.renders = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def _put(self, key: str, data: bytes) -> None:
        with self._lock:
            if key in self._items or len(data) > self.max_bytes:
                return
            self._items[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    async def image(self, content: str, fmt: QRFormat, options: QROptions) -> tuple[bytes, str]:
        """The image bytes and their ETag, rendering in a worker thread only on a miss."""
        etag = etag_for(content, fmt, options)
        cached = self._get(etag)
        if cached is not None:
            return cached, etag
        pending = self._pending.get(etag)
        if pending is not None:
            return await asyncio.shield(pending), etag
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[etag] = future
        try:
            data = await asyncio.to_thread(RENDERERS[fmt], content, options)
            self.renders += 1
            self._put(etag, data)
            future.set_result(data)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) get it, nobody else is warned
            raise
        finally:
            del self._pending[etag]
        return data, etag
