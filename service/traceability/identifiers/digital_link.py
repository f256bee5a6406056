"""GS1 Digital Link paths (/01/{gtin}[/10/{lot}][/21/{serial}]) and the short /q/{code} form, parsed in-process.

Only the keys this service issues are understood: AI 01 with its qualifiers 10 (lot) and 21 (serial),
in that order (GS1 Digital Link URI Syntax 1.6, section 4). Everything else is a syntax error (400).
"""

from urllib.parse import quote, unquote

import msgspec

from service.traceability.identifiers.gs1 import CODE_ALPHABET, GS1Error, is_gs1_text, normalize_gtin

# The longest legal path: /01/ + 14 digits, /10/ and /21/ with 20 characters each fully percent-encoded (x3).
MAX_PATH_LENGTH = 4 + 14 + 4 + 60 + 4 + 60
MAX_CODE_LENGTH = 20
_CODE_CHARS = frozenset(CODE_ALPHABET)


class DigitalLinkError(ValueError):
    """A request path that is not a well-formed identifier; `code` is the stable problem code."""

    def __init__(self, detail: str, code: str = "invalid_digital_link") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class DigitalLink(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed GS1 Digital Link: a GTIN-14 and optional lot and serial (decoded values)."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    @property
    def path(self) -> str:
        """The canonical uncompressed path: GTIN-14, qualifiers in standard order, values percent-encoded."""
        out = f"/01/{self.gtin}"
        if self.lot is not None:
            out += f"/10/{encode_value(self.lot)}"
        if self.serial is not None:
            out += f"/21/{encode_value(self.serial)}"
        return out

    def uri(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path

    def up(self) -> "DigitalLink | None":
        """The next level up the identifier tree (serial -> lot -> GTIN), or None at the primary key."""
        if self.serial is not None:
            return DigitalLink(gtin=self.gtin, lot=self.lot)
        if self.lot is not None:
            return DigitalLink(gtin=self.gtin)
        return None


class ShortLink(msgspec.Struct, frozen=True, kw_only=True):
    """The short form for products without a GTIN: /q/{code}[/{serial}]."""

    code: str
    serial: str | None = None

    @property
    def path(self) -> str:
        return f"/q/{self.code}" + (f"/{self.serial}" if self.serial is not None else "")

    def uri(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path


def encode_value(value: str) -> str:
    """Percent-encode an AI value for a path segment: everything outside RFC 3986 unreserved."""
    return quote(value, safe="")


def _decode_segment(raw: str, what: str) -> str:
    if "%" not in raw:
        return raw
    if not _well_formed_escapes(raw):
        raise DigitalLinkError(f"the {what} has a broken percent-encoding")
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError as exc:
        raise DigitalLinkError(f"the {what} is not UTF-8 once decoded") from exc


def _well_formed_escapes(raw: str) -> bool:
    i = 0
    while (i := raw.find("%", i)) != -1:
        pair = raw[i + 1 : i + 3]
        if len(pair) != 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
            return False
        i += 3
    return True


def _split(path: str) -> list[str]:
    if len(path) > MAX_PATH_LENGTH:
        raise DigitalLinkError(f"the path is longer than {MAX_PATH_LENGTH} characters", code="path_too_long")
    trimmed = path[1:] if path.startswith("/") else path
    if trimmed.endswith("/"):  # a trailing slash is tolerated (Resolver 1.2)
        trimmed = trimmed[:-1]
    parts = trimmed.split("/")
    if any(p == "" for p in parts):
        raise DigitalLinkError("the path has an empty segment")
    return parts


def parse_digital_link(path: str) -> DigitalLink:
    """Parse /01/{gtin}[/10/{lot}][/21/{serial}]; raise DigitalLinkError on any syntax or check-digit error."""
    parts = _split(path)
    if len(parts) % 2 or parts[0] != "01":
        raise DigitalLinkError("a GS1 Digital Link path starts with /01/{gtin} and has AI/value pairs")
    try:
        gtin = normalize_gtin(_decode_segment(parts[1], "GTIN"))
    except GS1Error as exc:
        raise DigitalLinkError(str(exc), code="invalid_gtin") from exc
    values: dict[str, str] = {}
    order = ("10", "21")
    last = -1
    for ai, raw in zip(parts[2::2], parts[3::2], strict=True):
        if ai not in order:
            raise DigitalLinkError(f"AI ({ai}) is not a key qualifier of a GTIN this resolver serves")
        position = order.index(ai)
        if position <= last:
            raise DigitalLinkError("key qualifiers come once each, in the order /10/ then /21/")
        last = position
        value = _decode_segment(raw, "lot" if ai == "10" else "serial")
        if not is_gs1_text(value):
            what = "lot (AI 10)" if ai == "10" else "serial (AI 21)"
            raise DigitalLinkError(
                f"the {what} must be 1-20 characters of the GS1 AI character set 82", code="invalid_ai_value"
            )
        values[ai] = value
    return DigitalLink(gtin=gtin, lot=values.get("10"), serial=values.get("21"))


def _check_code(value: str, what: str) -> str:
    if not 1 <= len(value) <= MAX_CODE_LENGTH or any(c not in _CODE_CHARS for c in value):
        raise DigitalLinkError(
            f"the {what} is 1-{MAX_CODE_LENGTH} characters of {CODE_ALPHABET}", code="invalid_short_code"
        )
    return value


def parse_short_link(path: str) -> ShortLink:
    """Parse /q/{code}[/{serial}]; codes and serials use the unambiguous alphabet only."""
    parts = _split(path)
    if parts[0] != "q" or len(parts) not in (2, 3):
        raise DigitalLinkError("a short link is /q/{code} or /q/{code}/{serial}", code="invalid_short_code")
    code = _check_code(parts[1], "code")
    serial = _check_code(parts[2], "serial") if len(parts) == 3 else None
    return ShortLink(code=code, serial=serial)


def batch_uri(base_url: str, *, gtin14: str | None, lot: str, code: str, serial: str | None = None) -> str:
    """The URI printed in a batch's (or unit's) QR code: Digital Link with a GTIN, else the short form."""
    if gtin14 is not None and is_gs1_text(lot):
        return DigitalLink(gtin=gtin14, lot=lot, serial=serial).uri(base_url)
    return ShortLink(code=code, serial=serial).uri(base_url)
