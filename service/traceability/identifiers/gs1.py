"""GS1 identifiers: GTIN check digits, the AI 10/21 character set, and unguessable codes."""

import re
import secrets

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
# Random codes avoid characters people confuse when they type or read them: 0/O, 1/I/l.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols = 5 bits each
# each of the 256 byte values to a symbol, every symbol for exactly 8 of them: a random byte gives a uniform one
_SYMBOL_OF_BYTE = bytes.maketrans(bytes(range(256)), CODE_ALPHABET.encode("ascii") * 8)


class GS1Error(ValueError):
    """An identifier that breaks GS1 syntax; the message says what is wrong."""


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3,1,3... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalize_gtin(raw: str) -> str:
    """GTIN-8/12/13/14 -> GTIN-14 (left-padded), after checking digits and the check digit."""
    digits = raw.strip().replace(" ", "")
    if not digits.isascii() or not digits.isdigit():
        raise GS1Error("a GTIN has digits only")
    if len(digits) not in (8, 12, 13, 14):
        raise GS1Error(f"a GTIN has 8, 12, 13 or 14 digits, not {len(digits)}")
    if gtin_check_digit(digits[:-1]) != int(digits[-1]):
        raise GS1Error(f"GTIN {digits}: check digit should be {gtin_check_digit(digits[:-1])}")
    return digits.zfill(14)


def is_gs1_text(value: str) -> bool:
    """True when the value fits AI 10 (batch/lot) or AI 21 (serial): 1-20 characters of set 82."""
    return bool(_CSET82.match(value))


def random_code(length: int = 13) -> str:
    """An unguessable code (13 symbols = 65 bits), with no ambiguous characters.

    One read of the system's random source for the whole code (`secrets.choice` read it once per symbol: 17
    system calls for a batch's code and lot)."""
    return secrets.token_bytes(length).translate(_SYMBOL_OF_BYTE).decode("ascii")
