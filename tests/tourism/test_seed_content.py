import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from vietnam_provinces import ProvinceCode, Ward

SEED_DIR = Path(__file__).resolve().parents[2] / "service" / "tourism" / "seed"
# Envelope of the province after the 2025 merger (former Thái Nguyên + former Bắc Kạn).
MIN_LAT, MAX_LAT, MIN_LON, MAX_LON = 21.30, 22.76, 105.40, 106.30
MODELS = {"stele", "stilt-house", "tea-leaf"}
LANGS = ("vi", "en")


def _seed() -> dict[str, Any]:
    seed: dict[str, Any] = json.loads((SEED_DIR / "sites.json").read_text(encoding="utf-8"))
    return seed


SEED = _seed()
POIS = [(site, poi) for site in SEED["sites"] for poi in site["pois"]]


def _inside(lat: float, lon: float) -> bool:
    return MIN_LAT <= lat <= MAX_LAT and MIN_LON <= lon <= MAX_LON


def _metres(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    dy = (a_lat - b_lat) * 111_320
    dx = (a_lon - b_lon) * 111_320 * math.cos(math.radians((a_lat + b_lat) / 2))
    return math.hypot(dx, dy)


def test_seed_is_marked_demo_and_big_enough() -> None:
    assert SEED["demo"] is True
    assert "DEMO" in SEED["notice"]["en"]
    assert len(SEED["sites"]) == 4
    assert len(POIS) >= 18
    assert all(4 <= len(site["pois"]) <= 6 for site in SEED["sites"])
    assert SEED["bounding_box"] == {
        **SEED["bounding_box"],
        "min_lat": MIN_LAT,
        "max_lat": MAX_LAT,
        "min_lon": MIN_LON,
        "max_lon": MAX_LON,
    }


def test_sites_are_bilingual_sourced_and_use_real_communes() -> None:
    wards = {ward.code: ward.name for ward in Ward.iter_by_province(ProvinceCode(19))}
    for site in SEED["sites"]:
        for field in (
            "name",
            "summary",
            "history",
            "address",
            "opening_hours",
            "tickets",
        ):
            assert all(site[field][lang].strip() for lang in LANGS), (
                site["slug"],
                field,
            )
        assert wards.get(site["commune"]["code"]) == site["commune"]["name"]
        for poi in site["pois"]:
            if "commune" in poi:
                assert wards.get(poi["commune"]["code"]) == poi["commune"]["name"]
        assert site["sources"] and all(s["claim"] and s["source"] for s in site["sources"])
        assert "needs checking" in site["coordinates_status"]


def test_all_coordinates_are_inside_the_province() -> None:
    for site in SEED["sites"]:
        assert _inside(site["lat"], site["lon"]), site["slug"]
        for poi in site["pois"]:
            assert _inside(poi["lat"], poi["lon"]), poi["slug"]
            # A point belongs to its site: within a few kilometres of the site's position.
            assert _metres(site["lat"], site["lon"], poi["lat"], poi["lon"]) < 6000, poi["slug"]
        for tour in site["tours"]:
            for lon, lat in tour["route"]:
                assert _inside(lat, lon), tour["slug"]
    for tour in SEED["regional_tours"]:
        for lon, lat in tour["route"]:
            assert _inside(lat, lon), tour["slug"]


@pytest.mark.parametrize(("site", "poi"), POIS, ids=[p["slug"] for _, p in POIS])
def test_poi_fields(site: dict[str, Any], poi: dict[str, Any]) -> None:
    if poi["zone"] == "boat":
        assert site["slug"] == "ho-nui-coc"
        assert 100 <= poi["radius_m"] <= 250
    else:
        assert poi["zone"] == "walk"
        assert 25 <= poi["radius_m"] <= 60
    assert poi["dwell_seconds"] > 0 and poi["cooldown_seconds"] > 0
    assert isinstance(poi["play_once"], bool)
    assert poi.get("model") in MODELS | {None}
    for lang in LANGS:
        assert poi["name"][lang].strip()
        assert 60 <= len(poi["text"][lang].split()) <= 150, (poi["slug"], lang)


def test_poi_slugs_and_order_are_unique_per_site() -> None:
    for site in SEED["sites"]:
        slugs = [poi["slug"] for poi in site["pois"]]
        assert len(set(slugs)) == len(slugs)
        assert [poi["order"] for poi in site["pois"]] == list(range(1, len(slugs) + 1))


def test_tours_reference_their_site_and_follow_geojson_order() -> None:
    modes = set()
    for site in SEED["sites"]:
        assert site["tours"], site["slug"]
        pois = {poi["slug"]: poi for poi in site["pois"]}
        for tour in site["tours"]:
            modes.add((site["slug"], tour["mode"]))
            assert tour["mode"] in {"walk", "boat", "drive"}
            assert tour["playback"] in {"sequential", "free"}
            assert tour["stops"] and set(tour["stops"]) <= pois.keys(), tour["slug"]
            _route_passes_stops(tour["route"], [pois[s] for s in tour["stops"]])
    assert ("ho-nui-coc", "boat") in modes
    assert ("atk-dinh-hoa", "walk") in modes

    by_slug = {site["slug"]: {poi["slug"]: poi for poi in site["pois"]} for site in SEED["sites"]}
    for tour in SEED["regional_tours"]:
        stops = []
        for ref in tour["stops"]:
            site_slug, poi_slug = ref.split("/")
            stops.append(by_slug[site_slug][poi_slug])
        _route_passes_stops(tour["route"], stops)


def _route_passes_stops(route: list[list[float]], stops: list[dict[str, Any]]) -> None:
    assert len(route) >= 2
    for point in route:
        lon, lat = point  # GeoJSON order: longitude first
        assert 105 < lon < 107 and 21 < lat < 23
    for stop in stops:
        nearest = min(_metres(stop["lat"], stop["lon"], lat, lon) for lon, lat in route)
        assert nearest <= stop["radius_m"], stop["slug"]


@pytest.mark.parametrize(("site", "poi"), POIS, ids=[p["slug"] for _, p in POIS])
def test_seed_audio_matches_committed_cues(site: dict[str, Any], poi: dict[str, Any]) -> None:
    for lang in LANGS:
        audio_path = SEED_DIR / "audio" / site["slug"] / f"{poi['slug']}.{lang}.opus"
        cues_path = audio_path.with_name(f"{poi['slug']}.{lang}.cues.json")
        audio = audio_path.read_bytes()
        sidecar = json.loads(cues_path.read_text(encoding="utf-8"))
        assert audio.startswith(b"OggS") and b"OpusHead" in audio[:200]
        assert sidecar["sha256"] == hashlib.sha256(audio).hexdigest()
        assert sidecar["bytes"] == len(audio)
        assert sidecar["mime"] == "audio/ogg"
        assert sidecar["duration_s"] > 10
        cues = sidecar["cues"]
        assert " ".join(cue["text"] for cue in cues) == " ".join(poi["text"][lang].split())
        previous_end = 0.0
        for cue in cues:
            assert previous_end <= cue["start"] < cue["end"]
            previous_end = cue["end"]
        assert previous_end == pytest.approx(sidecar["duration_s"], abs=0.01)


def test_audio_folder_stays_small() -> None:
    total = sum(path.stat().st_size for path in (SEED_DIR / "audio").rglob("*") if path.is_file())
    assert total < 4 * 1024 * 1024
