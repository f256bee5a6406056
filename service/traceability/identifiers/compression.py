"""GS1 Digital Link URI compression (GS1 Digital Link Standard: URI Compression), in-process, both ways.

A compressed URI carries its GS1 data as one path segment of the URI-safe base64 alphabet below, six
bits a character, read left to right as a bit string of entries. Each entry starts with an 8-bit
header, two 4-bit nibbles:

- both nibbles 0-9: the first two digits of an AI (only 2-digit AIs are served here: 01, 10, 21),
  followed by that AI's value;
- a nibble A-E: a code for a fixed sequence of AIs, followed by their values in that order
  (0B = 01,10 and 0C = 01,21 are served; the other codes name AIs this service does not use);
- first nibble F: a non-GS1 key=value pair from the query string: 7 bits of key length (the second
  nibble is their first 4 bits), the key in base64 characters, then the value as a variable-length
  alphanumeric value with 7 length bits.

Values: fixed-length numeric (AI 01, 14 digits) is one unsigned integer of ceil(n * log2(10) + 0.01)
bits. Variable-length alphanumeric (AI 10 and 21, up to 20 characters) is a 3-bit encoding, 5 length
bits (ceil(log2(20) + 0.01)), then the characters: 0 = digits as one integer sized as above, 1 = lower
case hex and 2 = upper case hex (4 bits each), 3 = URI-safe base64 (6 bits each), 4 = ASCII (7 bits
each). The last character is padded with zero bits. Anything else is refused (DigitalLinkError, 400).
"""

import math
import re
from collections.abc import Sequence

import msgspec

from service.traceability.identifiers.digital_link import DigitalLink, DigitalLinkError
from service.traceability.identifiers.gs1 import GS1Error, is_gs1_text, normalize_gtin

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
HEX = "0123456789ABCDEF"
# A fully compressed GTIN alone is 10 characters; 01 + 10 + 21 at 20 ASCII characters each is 62.
# Non-GS1 pairs make it longer; past this the segment is not a compressed link we would have issued.
MIN_SEGMENT, MAX_SEGMENT = 10, 160
SEGMENT = re.compile(rf"[A-Za-z0-9_-]{{{MIN_SEGMENT},{MAX_SEGMENT}}}")
PARTIAL_SEGMENT = re.compile(rf"[A-Za-z0-9_-]{{2,{MAX_SEGMENT}}}")

GTIN_DIGITS = 14
MAX_TEXT = 20  # AI 10 and 21: X..20
MAX_PAIR_TEXT = 127  # non-GS1 keys and values: 7 length bits
SERVED_AIS = ("01", "10", "21")
# Optimisation codes of the standard: served ones, and the others (named, refused as unsupported).
OPTIMISED = {"0B": ("01", "10"), "0C": ("01", "21")}
OTHER_OPTIMISATIONS = (
    frozenset(
        [f"{d}{x}" for d in "0123" for x in "ABCDEF"]
        + ["9A", "9B", "9C", "9D"]
        + [f"A{d}" for d in "0123456789"]
        + [f"C{c}" for c in "0123456789ABCD"]
    )
    - OPTIMISED.keys()
)
# The first two digits of every AI of the standard's table (its "table P"); these are refused by name.
KNOWN_AI_PREFIXES = frozenset(
    ["00", "01", "02", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22", "23", "24", "25", "30"]
    + ["31", "32", "33", "34", "35", "36", "37", "39", "40", "41", "42", "70", "71", "72", "80", "81", "82"]
    + [str(n) for n in range(90, 100)]
)
_DIGITS = re.compile(r"[0-9]+")
_LOWER_HEX = re.compile(r"[0-9a-f]+")
_UPPER_HEX = re.compile(r"[0-9A-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9_-]+")


class Decompressed(msgspec.Struct, frozen=True, kw_only=True):
    """What a compressed segment held: the identifier and any non-GS1 query pairs, in order."""

    link: DigitalLink
    query: list[tuple[str, str]] = msgspec.field(default_factory=list)


def value_bits(digits: int) -> int:
    """Bits of a numeric value of `digits` digits."""
    return math.ceil(digits * math.log2(10) + 0.01) if digits else 0


def length_bits(max_length: int) -> int:
    """Bits of the length indicator of a value of at most `max_length` characters."""
    return math.ceil(math.log2(max_length) + 0.01)


class _Bits:
    """A bit string read from the left."""

    def __init__(self, segment: str) -> None:
        self.value = 0
        for char in segment:
            self.value = (self.value << 6) | _INDEX[char]
        self.size = 6 * len(segment)
        self.pos = 0

    @property
    def left(self) -> int:
        return self.size - self.pos

    def read(self, count: int) -> int:
        if count > self.left:
            raise DigitalLinkError("the compressed link ends in the middle of a value", "invalid_compressed_link")
        self.pos += count
        return (self.value >> (self.size - self.pos)) & ((1 << count) - 1)


def _fail(detail: str) -> DigitalLinkError:
    return DigitalLinkError(detail, "invalid_compressed_link")


def _read_chars(bits: _Bits, encoding: int, length: int) -> str:
    if encoding == 0:
        number = bits.read(value_bits(length))
        if number >= 10**length:
            raise _fail("a numeric value in the compressed link has more digits than its length says")
        return str(number).zfill(length)
    if encoding in (1, 2):
        text = "".join(HEX[bits.read(4)] for _ in range(length))
        return text.lower() if encoding == 1 else text
    if encoding == 3:
        return "".join(ALPHABET[bits.read(6)] for _ in range(length))
    if encoding == 4:
        return "".join(chr(bits.read(7)) for _ in range(length))
    raise _fail(f"the compressed link uses an undefined value encoding ({encoding})")


def _read_ai_value(bits: _Bits, ai: str) -> str:
    if ai == "01":
        number = bits.read(value_bits(GTIN_DIGITS))
        if number >= 10**GTIN_DIGITS:
            raise _fail("the GTIN in the compressed link is longer than 14 digits")
        return str(number).zfill(GTIN_DIGITS)
    encoding = bits.read(3)
    length = bits.read(length_bits(MAX_TEXT))
    if not 1 <= length <= MAX_TEXT:
        raise DigitalLinkError(f"AI ({ai}) must be 1-{MAX_TEXT} characters", "invalid_ai_value")
    return _read_chars(bits, encoding, length)


def _unsupported(what: str) -> DigitalLinkError:
    return DigitalLinkError(
        f"{what}: this resolver serves AIs (01) GTIN, (10) lot and (21) serial only", "unsupported_ai"
    )


def decode_pairs(segment: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Decode one compressed segment into AI values (served AIs only) and non-GS1 key=value pairs."""
    if PARTIAL_SEGMENT.fullmatch(segment) is None:
        raise _fail("a compressed link is one segment of the characters A-Z a-z 0-9 - _")
    bits = _Bits(segment)
    ais: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    while bits.left >= 8:
        high, low = bits.read(4), bits.read(4)
        header = f"{high:X}{low:X}"
        if high <= 9 and low <= 9:
            if header not in SERVED_AIS:
                known = header in KNOWN_AI_PREFIXES
                raise _unsupported(f"AI ({header}...)" if known else f"{header} is not a GS1 AI")
            sequence: tuple[str, ...] = (header,)
        elif header in OPTIMISED:
            sequence = OPTIMISED[header]
        elif high == 0xF:
            key_length = (low << 3) | bits.read(3)
            key = "".join(ALPHABET[bits.read(6)] for _ in range(key_length))
            encoding = bits.read(3)
            value = _read_chars(bits, encoding, bits.read(7))
            if not key:
                raise _fail("a non-GS1 pair in the compressed link has an empty key")
            query.append((key, value))
            continue
        elif header in OTHER_OPTIMISATIONS:
            raise _unsupported(f"the optimisation code {header} names AIs")
        else:
            raise _fail(f"{header} is not a header of the GS1 Digital Link compression")
        for ai in sequence:
            if ai in ais:
                raise _fail(f"AI ({ai}) appears twice in the compressed link")
            ais[ai] = _read_ai_value(bits, ai)
    if bits.left >= 6 or bits.read(bits.left) != 0:
        raise _fail("the compressed link has trailing data after its last value")
    return ais, query


def _checked_link(ais: dict[str, str]) -> DigitalLink:
    if "01" not in ais:
        raise DigitalLinkError("a compressed link served here carries a GTIN, AI (01)", "invalid_compressed_link")
    try:
        gtin = normalize_gtin(ais["01"])
    except GS1Error as exc:
        raise DigitalLinkError(str(exc), code="invalid_gtin") from exc
    for ai, what in (("10", "lot (AI 10)"), ("21", "serial (AI 21)")):
        if ai in ais and not is_gs1_text(ais[ai]):
            raise DigitalLinkError(
                f"the {what} must be 1-20 characters of the GS1 AI character set 82", code="invalid_ai_value"
            )
    return DigitalLink(gtin=gtin, lot=ais.get("10"), serial=ais.get("21"))


def decompress(segment: str) -> Decompressed:
    """A fully compressed Digital Link path (/{segment}) -> the uncompressed identifier, checked like /01/..."""
    if SEGMENT.fullmatch(segment) is None:
        raise _fail(f"a compressed link is {MIN_SEGMENT}-{MAX_SEGMENT} characters of A-Z a-z 0-9 - _")
    ais, query = decode_pairs(segment)
    return Decompressed(link=_checked_link(ais), query=query)


def decompress_qualifiers(gtin: str, segment: str) -> Decompressed:
    """A partially compressed path /01/{gtin}/{segment}: the key uncompressed, qualifiers compressed."""
    ais, query = decode_pairs(segment)
    if "01" in ais:
        raise _fail("a partially compressed link carries its GTIN uncompressed only")
    return Decompressed(link=_checked_link({"01": gtin, **ais}), query=query)


# --- encoding (what a label printer would put in a QR code; also makes the decoder's tests honest) ----


def _encoding_of(text: str) -> int:
    if _DIGITS.fullmatch(text):
        return 0
    if _LOWER_HEX.fullmatch(text):
        return 1
    if _UPPER_HEX.fullmatch(text):
        return 2
    if _BASE64.fullmatch(text):
        return 3
    if all(ord(c) < 128 for c in text):
        return 4
    raise ValueError("only ASCII text can be compressed")


def _chars(text: str, encoding: int) -> tuple[int, int]:
    """(value, bit count) of `text` in `encoding`."""
    if encoding == 0:
        return int(text), value_bits(len(text))
    width, index = {1: (4, HEX.index), 2: (4, HEX.index), 3: (6, _INDEX.__getitem__), 4: (7, ord)}[encoding]
    value = 0
    for char in text.upper() if encoding in (1, 2) else text:
        value = (value << width) | index(char)
    return value, width * len(text)


class _Writer:
    def __init__(self) -> None:
        self.value, self.size = 0, 0

    def write(self, value: int, count: int) -> None:
        self.value, self.size = (self.value << count) | value, self.size + count

    def header(self, code: str) -> None:
        for nibble in code:
            self.write(int(nibble, 16), 4)

    def text(self, text: str, max_length: int, length_width: int) -> None:
        if not 1 <= len(text) <= max_length:
            raise ValueError(f"a compressed value is 1-{max_length} characters")
        encoding = _encoding_of(text)
        self.write(encoding, 3)
        self.write(len(text), length_width)
        self.write(*_chars(text, encoding))

    def segment(self) -> str:
        pad = -self.size % 6
        value, size = self.value << pad, self.size + pad
        return "".join(ALPHABET[(value >> (size - 6 * (i + 1))) & 63] for i in range(size // 6))


def compress(
    link: DigitalLink, *, optimise: bool = False, partial: bool = False, query: Sequence[tuple[str, str]] = ()
) -> str:
    """The compressed segment of a Digital Link: AIs in path order, or with the 0B/0C codes when optimising.

    `partial`: the qualifiers only, for /01/{gtin}/{segment} (the GTIN stays uncompressed).
    """
    out = _Writer()
    qualifiers = [(ai, v) for ai, v in (("10", link.lot), ("21", link.serial)) if v is not None]
    optimise = optimise and not partial and bool(qualifiers)
    if optimise:
        out.header("0B" if qualifiers[0][0] == "10" else "0C")
    elif not partial:
        out.header("01")
    if not partial:
        out.write(int(link.gtin), value_bits(GTIN_DIGITS))
    for index, (ai, value) in enumerate(qualifiers):
        if not (optimise and index == 0):
            out.header(ai)
        out.text(value, MAX_TEXT, length_bits(MAX_TEXT))
    for key, value in query:
        if not 1 <= len(key) <= MAX_PAIR_TEXT or _BASE64.fullmatch(key) is None:
            raise ValueError("a non-GS1 key is 1-127 characters of A-Z a-z 0-9 - _")
        out.write(0xF, 4)
        out.write(len(key), 7)
        out.write(*_chars(key, 3))
        out.text(value, MAX_PAIR_TEXT, 7)
    return out.segment()
