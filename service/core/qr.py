"""QR images (PNG, SVG) of a URI, rendered off the event loop and kept in a bounded in-process LRU.

The module matrix comes from the qrcode library; PNG and SVG are drawn from it directly (one PIL
resize, one SVG path), which is several times faster than qrcode's per-module image factories.
"""

import asyncio
import functools
import hashlib
import io
import operator
import threading
from collections import OrderedDict
from typing import Annotated, Literal, NamedTuple

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


class PackedSymbol(NamedTuple):
    """A QR symbol as a 1-bit image: `side` modules square, each row padded to whole bytes, 1 = dark.

    The layout of a PDF image mask (and of PIL's mode "1" raw data inverted), so a sheet draws a code
    without touching its modules one by one.
    """

    side: int
    rows: bytes


class SheetEncoder:
    """QR matrices for many contents of about the same length (a label sheet): one encoder, reused.

    The version is fitted once, on the longest content, and the mask pattern is fixed (`qr_matrix(fast=True)`).
    With both fixed, everything but the data modules is the same in every code, and the data modules are an
    affine function of the data bytes over GF(2): Reed-Solomon division is linear, interleaving and placement
    are permutations and the mask is one XOR. So the sheet keeps:
    - for each data byte position and each of its 256 values, the codeword stream it contributes (the byte
      itself and its share of its block's error-correction bytes, already interleaved), as one integer;
    - the mask bits of the data modules in qrcode's `map_data` walk, and a gather of every module of the
      symbol (quiet zone included) from the masked stream or a constant, in row order.
    Per code that leaves qrcode's own segmenting and bit buffer (`data_list`, `QRData.write`), one XOR per
    data byte, and one C-level gather. The matrices are exactly qrcode's (tested against
    `qr_matrix(fast=True)` on every version a sheet can reach). For versions whose tables would be large (over
    about 6 MB: far longer URIs than a label holds) the error-correction bytes are divided per code instead.
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
        n = self.version * 4 + 17
        self.side = n + 2 * quiet_zone
        template, positions, self._mask = self._open_symbol()
        self._modules = len(positions)
        blocks = qrcode.base.rs_blocks(self.version, self.code.error_correction)
        self._blocks = [(b.data_count, _generator_tables(b.total_count - b.data_count)) for b in blocks]
        self._data_bytes = sum(count for count, _ in self._blocks)
        self._total_bytes = sum(b.total_count for b in blocks)
        self._bit_limit = self._data_bytes * 8
        self._tables = self._stream_tables() if self._data_bytes * self._total_bytes <= _MAX_TABLE_BYTE_PAIRS else None
        # Where each module of the symbol comes from: a data module's place in the masked stream, or
        # light/dark constants just past its end (finder, timing, format... and the quiet zone).
        light, dark = self._modules, self._modules + 1
        walk = {flat: index for index, flat in enumerate(positions)}
        sources = [
            [light] * quiet_zone
            + [
                walk[r * n + c] if template[r * n + c] is None else (dark if template[r * n + c] else light)
                for c in range(n)
            ]
            + [light] * quiet_zone
            for r in range(n)
        ]
        blank = [light] * self.side
        rows = [blank] * quiet_zone + sources + [blank] * quiet_zone
        padding = [light] * (-self.side % 8)
        self._gather_packed = operator.itemgetter(*[i for row in rows for i in row + padding])

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
        code.modules = [[None]]  # the scratch symbol is not a code: `_fitted()` rebuilds it when it falls back
        return template, positions, mask_bits

    def _interleave(self, blocks: list[list[int]], corrections: list[list[int]]) -> list[int]:
        """qrcode's order: the blocks' data bytes column by column, then their error-correction bytes."""
        out = [block[i] for i in range(max(map(len, blocks))) for block in blocks if i < len(block)]
        out += [ec[i] for i in range(max(map(len, corrections))) for ec in corrections if i < len(ec)]
        return out

    def _stream(self, payload: list[int]) -> int:
        """The payload's interleaved codewords as the top bits of the data modules' stream (before the mask)."""
        blocks: list[list[int]] = []
        corrections: list[list[int]] = []
        offset = 0
        for count, generator in self._blocks:
            block = payload[offset : offset + count]
            offset += count
            blocks.append(block)
            corrections.append(_remainder(block, generator))
        codewords = self._interleave(blocks, corrections)
        used = min(len(codewords) * 8, self._modules)
        return (int.from_bytes(bytes(codewords), "big") >> (len(codewords) * 8 - used)) << (self._modules - used)

    def _stream_tables(self) -> list[list[int]]:
        """For each data byte position, the stream of every one of its 256 values with all other bytes 0."""
        tables: list[list[int]] = []
        for position in range(self._data_bytes):
            basis = []
            for bit in range(8):
                payload = [0] * self._data_bytes
                payload[position] = 1 << bit
                basis.append(self._stream(payload))
            table = [0] * 256
            for value in range(1, 256):
                low = value & -value
                table[value] = table[value ^ low] ^ basis[low.bit_length() - 1]
            tables.append(table)
        return tables

    def _payload(self, content: str) -> list[int] | None:
        """qrcode's data bytes (segments, terminator, pad bytes); None when the content does not fit."""
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
        return payload + [qrcode.util.PAD0, qrcode.util.PAD1] * (fill // 2) + [qrcode.util.PAD0] * (fill % 2)

    def _module_bits(self, content: str) -> str | None:
        """'0'/'1' per data module in qrcode's walk, masked, then '0' and '1' for the constants to gather."""
        payload = self._payload(content)
        if payload is None:
            return None
        tables = self._tables
        if tables is None:
            stream = self._stream(payload)
        else:
            stream = functools.reduce(operator.xor, map(operator.getitem, tables, payload), 0)
        return format(stream ^ self._mask, f"0{self._modules}b") + "01"

    def _fitted(self, content: str) -> list[list[bool]]:
        code = self.code
        code.clear()
        code.add_data(content.encode("utf-8"))
        code.make(fit=True)
        fitted: list[list[bool]] = code.get_matrix()
        return fitted

    def packed(self, content: str) -> PackedSymbol:
        """The symbol `qr_matrix(fast=True)` gives, as a 1-bit image: drawn without a Python object per module."""
        bits = self._module_bits(content)
        if bits is None:
            return pack_matrix(self._fitted(content))
        packed = "".join(self._gather_packed(bits))
        return PackedSymbol(self.side, int(packed, 2).to_bytes(len(packed) // 8, "big"))


def pack_matrix(matrix: list[list[bool]]) -> PackedSymbol:
    """A module matrix as a 1-bit image (rows padded to whole bytes, 1 = dark)."""
    side = len(matrix)
    padding = "0" * (-side % 8)
    packed = "".join("".join("1" if dark else "0" for dark in row) + padding for row in matrix)
    return PackedSymbol(side, int(packed or "0", 2).to_bytes(len(packed) // 8, "big"))


# Stream tables hold data bytes x 256 integers of the codeword stream's length: about 6 MB at this bound
# (version 7 at level M and below are inside it; a label's URI needs version 4 or 5).
_MAX_TABLE_BYTE_PAIRS = 24_000


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
