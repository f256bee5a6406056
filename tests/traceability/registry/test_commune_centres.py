"""The scanning phone's commune, estimated from the nearest of the 92 commune centres (vietnamadminunits 1.0.4)."""

import pytest

from service.traceability.registry.commune_centres import commune_at, commune_centres, distance_km
from service.traceability.registry.communes import commune, communes, inside_thai_nguyen


def test_every_centre_is_an_official_commune_and_every_commune_has_a_centre() -> None:
    centres = commune_centres()
    codes = [c.code for c in centres]
    assert len(codes) == len(set(codes)) == 92
    assert set(codes) == {c.code for c in communes()}
    for centre in centres:
        official = commune(centre.code)
        assert official is not None and official.name == centre.name, centre  # the two sources agree on the code
        assert inside_thai_nguyen(centre.lat, centre.lon), centre
        assert 1 < centre.area_km2 < 1000, centre


def test_a_position_at_a_centre_is_that_commune() -> None:
    for centre in commune_centres():
        assert commune_at(centre.lat, centre.lon) == centre.code


@pytest.mark.parametrize(
    ("position", "name"),
    [
        ((21.59, 105.83), "Phường Phan Đình Phùng"),  # a scan position as stored: rounded to 0.01 degree
        ((21.52, 105.79), "Xã Tân Cương"),
        ((22.11, 105.86), "Phường Bắc Kạn"),
        ((22.44, 105.63), "Xã Ba Bể"),
    ],
)
def test_a_rounded_scan_position_near_a_centre(position: tuple[float, float], name: str) -> None:
    code = commune_at(*position)
    assert code is not None
    found = commune(code)
    assert found is not None and found.name == name


@pytest.mark.parametrize(
    "position",
    [
        (21.03, 105.85),  # Hà Nội, Hoàn Kiếm
        (21.0, 105.8),  # Hà Nội, south of the province's last centre
        (10.78, 106.7),  # Hồ Chí Minh City
        (22.9, 106.6),  # Cao Bằng, beyond the north-east edge
        (float("nan"), 105.8),
    ],
)
def test_a_position_outside_the_province_is_unknown(position: tuple[float, float]) -> None:
    assert commune_at(*position) is None


def test_the_distance_is_close_to_the_great_circle_at_this_scale() -> None:
    # Thái Nguyên city to Bắc Kạn ward: about 58 km
    assert distance_km(21.5887, 105.834, 22.1085, 105.86) == pytest.approx(57.9, abs=0.3)
