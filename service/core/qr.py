"""QR images (PNG, SVG) of a URI, rendered off the event loop and kept in a bounded in-process LRU.

The module matrix comes from the qrcode library; PNG and SVG are drawn from it directly (one PIL
resize, one SVG path), which is several times faster than qrcode's per-module image factories.
"""

import asyncio
import hashlib
import io
import threading
from collections import OrderedDict
from typing import Annotated, Literal, cast

import msgspec
import qrcode
import qrcode.base
import qrcode.constants
import qrcode.exceptions
import qrcode.LUT
import qrcode.util
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

    The version is fitted once, on the longest content, and the mask pattern is fixed (`qr_matrix(fast=True)`).
    With both fixed, everything but the data modules is the same in every code, so the sheet keeps:
    - the symbol qrcode draws for this version and mask with the data modules left open (its own
      finder, timing, alignment, format and version patterns), flattened;
    - the order in which qrcode's `map_data` walks the open modules, and the mask bit of each;
    - the Reed-Solomon generator of each block as logarithms, for a shift-register division.
    Per code that leaves: qrcode's own segmenting and bit buffer (`data_list`, `BitBuffer`), the
    error-correction bytes, and one XOR of the data bits with the mask bits. The matrices are exactly
    qrcode's (tested against `qr_matrix(fast=True)` on every version a sheet can reach); this replaced
    qrcode's `Polynomial.__mod__` and `map_data`, 55 % of a 1,000-label sheet's CPU.
    A content that does not fit the sheet's version (it cannot happen with equal-length serials) is fitted
    on its own.
    """

    def __init__(self, contents: list[str], *, quiet_zone: int = 4, error_correction: ErrorCorrection = "M") -> None:
        self.code = qrcode.QRCode(border=quiet_zone, error_correction=_EC_LEVELS[error_correction], mask_pattern=0)
        self.quiet_zone = quiet_zone
        longest = max(contents, key=lambda c: len(c.encode("utf-8")), default="")
        self.code.add_data(longest.encode("utf-8"))
        self.code.best_fit()
        self.version: int = self.code.version
        self._template, self._positions, self._mask = self._open_symbol()
        self._blocks = [
            (block.data_count, _generator_tables(block.total_count - block.data_count))
            for block in qrcode.base.rs_blocks(self.version, self.code.error_correction)
        ]
        self._bit_limit = sum(count * 8 for count, _ in self._blocks)

    def _open_symbol(self) -> tuple[list[bool | None], list[int], int]:
        """The symbol with its data modules open (None), their flat indexes in qrcode's walk, the mask bits."""
        code, n = self.code, self.version * 4 + 17
        code.modules_count = n
        code.modules = [[None] * n for _ in range(n)]
        code.setup_position_probe_pattern(0, 0)
        code.setup_position_probe_pattern(n - 7, 0)
        code.setup_position_probe_pattern(0, n - 7)
        code.setup_position_adjust_pattern()
        code.setup_timing_pattern()
        code.setup_type_info(False, 0)
        if self.version >= 7:
            code.setup_type_number(False)
        template: list[bool | None] = [module for row in code.modules for module in row]
        mask = qrcode.util.mask_func(0)
        positions: list[int] = []
        mask_bits = 0
        row, step = n - 1, -1
        for col in range(n - 1, 0, -2):  # the walk of qrcode.main.QRCode.map_data
            if col <= 6:
                col -= 1
            while True:
                for c in (col, col - 1):
                    if template[row * n + c] is None:
                        positions.append(row * n + c)
                        mask_bits = (mask_bits << 1) | int(mask(row, c))
                row += step
                if row < 0 or row >= n:
                    row -= step
                    step = -step
                    break
        code.modules = [[None]]  # the scratch symbol is not a code: `matrix()` rebuilds it when it falls back
        return template, positions, mask_bits

    def _codewords(self, content: str) -> list[int] | None:
        """Data and error-correction bytes in qrcode's interleaved order; None when the content does not fit."""
        code = self.code
        code.clear()
        code.add_data(content.encode("utf-8"))
        buffer = _Bits()
        for data in code.data_list:
            buffer.put(data.mode, 4)
            buffer.put(len(data), qrcode.util.length_in_bits(data.mode, self.version))
            data.write(buffer)
        if buffer.length > self._bit_limit:
            return None
        bits = min(buffer.length + 4, self._bit_limit)  # terminator: up to four 0 bits, then 0s to a byte boundary
        size = (bits + 7) // 8
        payload = list((buffer.value << (size * 8 - buffer.length)).to_bytes(size, "big"))
        fill = self._bit_limit // 8 - len(payload)
        payload += [qrcode.util.PAD0, qrcode.util.PAD1] * (fill // 2) + [qrcode.util.PAD0] * (fill % 2)
        blocks: list[list[int]] = []
        corrections: list[list[int]] = []
        offset = 0
        for count, generator in self._blocks:
            block = payload[offset : offset + count]
            offset += count
            blocks.append(block)
            corrections.append(_remainder(block, generator))
        out = [block[i] for i in range(max(map(len, blocks))) for block in blocks if i < len(block)]
        out += [ec[i] for i in range(max(map(len, corrections))) for ec in corrections if i < len(ec)]
        return out

    def matrix(self, content: str) -> list[list[bool]]:
        codewords = self._codewords(content)
        if codewords is None:
            code = self.code
            code.clear()
            code.add_data(content.encode("utf-8"))
            code.make(fit=True)
            fitted: list[list[bool]] = code.get_matrix()
            return fitted
        flat = cast(list[bool], self._template.copy())  # every open module is set below
        positions = self._positions
        count = len(positions)
        data_bits = min(len(codewords) * 8, count)
        value = int.from_bytes(bytes(codewords), "big") >> (len(codewords) * 8 - data_bits)
        bits = format((value << (count - data_bits)) ^ self._mask, f"0{count}b")
        for index, bit in zip(positions, bits, strict=True):
            flat[index] = bit == "1"
        n, border = self.version * 4 + 17, self.quiet_zone
        blank = [False] * (n + 2 * border)
        side = [False] * border
        rows: list[list[bool]] = [blank.copy() for _ in range(border)]
        rows += [side + flat[r * n : (r + 1) * n] + side for r in range(n)]
        rows += [blank.copy() for _ in range(border)]
        return rows


class _Bits:
    """qrcode's BitBuffer for `QRData.write` (which only calls `put`), as one integer instead of a bit at a time."""

    __slots__ = ("length", "value")

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length


def _generator_tables(ec_count: int) -> list[list[int]]:
    """qrcode's Reed-Solomon generator for this many EC bytes (leading 1 dropped), each coefficient g as the
    table of g * x for every byte x in GF(256): the division below is then one lookup and one XOR per byte."""
    if ec_count in qrcode.LUT.rsPoly_LUT:
        coefficients = list(qrcode.LUT.rsPoly_LUT[ec_count])
    else:
        poly = qrcode.base.Polynomial([1], 0)
        for i in range(ec_count):
            poly = poly * qrcode.base.Polynomial([1, qrcode.base.gexp(i)], 0)
        coefficients = [poly[i] for i in range(len(poly))]
    exp, log = qrcode.base.EXP_TABLE, qrcode.base.LOG_TABLE
    return [[exp[(log[g] + log[x]) % 255] if g and x else 0 for x in range(256)] for g in coefficients[1:]]


def _remainder(block: list[int], generator: list[list[int]]) -> list[int]:
    """The block's error-correction bytes: polynomial division in GF(256) as a shift register."""
    remainder = [0] * len(generator)
    for byte in block:
        factor = byte ^ remainder[0]
        remainder = [*remainder[1:], 0]
        if factor:
            remainder = [r ^ table[factor] for r, table in zip(remainder, generator, strict=True)]
    return remainder


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
