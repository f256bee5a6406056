"""Language codes the guide accepts: BCP-47-ish tags whose primary language we know."""

import re
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar

from service.core.errors import InvalidInput

_TAG: Final = re.compile(r"^([a-z]{2,3})(?:-([A-Za-z0-9]{2,8}))*$")
# ISO 639-1 codes visitors to Thái Nguyên are likely to ask for, plus the local minority languages
# with ISO 639-3 codes (Tày, Nùng, Dao / Iu Mien, H'Mông, San Chay).
KNOWN_LANGUAGES: Final = frozenset(
    {
        "vi", "en", "fr", "zh", "ko", "ja", "de", "ru", "es", "it", "pt", "nl", "th", "lo", "km",
        "id", "ms", "tl", "hi", "ar", "pl", "sv", "da", "no", "fi", "cs", "uk", "he", "tr",
        "tyz", "nut", "ium", "hmn", "cuc",
    }
)  # fmt: skip
FALLBACK_ORDER: Final = ("vi", "en")

T = TypeVar("T")


def check_language(tag: str) -> str:
    """Return the tag if it is well formed with a known primary language; 422 otherwise."""
    match = _TAG.match(tag)
    if match is None or match.group(1) not in KNOWN_LANGUAGES:
        raise InvalidInput(
            f"'{tag}' is not a language code we know (use BCP 47 tags such as vi, en, fr, zh, ko, ja)",
            code="unknown_language",
        )
    return tag


def check_languages(tags: Iterable[str]) -> None:
    for tag in tags:
        check_language(tag)


def pick_language(available: Mapping[str, T], wanted: str) -> tuple[str, T] | None:
    """The wanted language, else its primary subtag, else vi, else en, else any: (lang served, value)."""
    if not available:
        return None
    primary = wanted.split("-", 1)[0]
    for candidate in (wanted, primary, *FALLBACK_ORDER):
        if candidate in available:
            return candidate, available[candidate]
    first = sorted(available)[0]
    return first, available[first]
