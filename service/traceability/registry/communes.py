"""Official 2025 communes and wards (two-tier local government), from the `vietnam-provinces` package."""

import functools
import unicodedata

import msgspec

THAI_NGUYEN_PROVINCE_CODE = 19  # after the 1 July 2025 merger with Bắc Kạn: 92 communes and wards

# Roughly the merged province (old Thái Nguyên + Bắc Kạn), with a small margin.
LAT_MIN, LAT_MAX = 21.3, 22.8
LON_MIN, LON_MAX = 105.4, 106.3


class Commune(msgspec.Struct, frozen=True):
    code: str  # 5 digits, e.g. "05443"
    name: str  # e.g. "Phường Phan Đình Phùng"
    province_code: int
    province_name: str


@functools.cache
def _communes() -> dict[str, Commune]:
    """Loaded on first use (the package builds big tables); cached for the process."""
    from vietnam_provinces import Province, ProvinceCode, Ward

    province = Province.from_code(ProvinceCode(THAI_NGUYEN_PROVINCE_CODE))
    return {
        f"{int(ward.code):05d}": Commune(
            code=f"{int(ward.code):05d}",
            name=ward.name,
            province_code=int(province.code),
            province_name=province.name,
        )
        for ward in Ward.iter_by_province(ProvinceCode(THAI_NGUYEN_PROVINCE_CODE))
    }


def commune(code: str) -> Commune | None:
    """The Thái Nguyên commune or ward with this official code, or None."""
    if not code.isascii() or not code.isdigit() or len(code) > 5:
        return None
    return _communes().get(code.zfill(5))


def communes() -> list[Commune]:
    return sorted(_communes().values(), key=lambda c: c.name)


def commune_by_name(name: str) -> Commune | None:
    """Find by name without caring about accents or the Xã/Phường prefix (for the seed and imports)."""
    wanted = fold_for_search(name)
    for item in _communes().values():
        folded = fold_for_search(item.name)
        if folded == wanted or folded.split(" ", 1)[-1] == wanted:
            return item
    return None


def fold_for_search(text: str) -> str:
    """Lower-case, accents removed (đ -> d), spaces collapsed: what people type into a search box."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


def inside_thai_nguyen(lat: float, lon: float) -> bool:
    return LAT_MIN <= lat <= LAT_MAX and LON_MIN <= lon <= LON_MAX
