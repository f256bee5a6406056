"""Tourism's entries in the open-data catalogue (served by core.catalog; the data at /open-data/sites.geojson)."""

from datetime import date

from service.core.catalog import Column, Dataset, LastUpdated
from service.tourism.sites.queries import published_sites_last_updated

SITES_DATASET = Dataset(
    id="heritage-sites",
    title={"vi": "Di tích và điểm tham quan Thái Nguyên", "en": "Heritage sites of Thái Nguyên"},
    description={
        "vi": (
            "Các di tích đã xuất bản, điểm thuyết minh (kèm bán kính vùng kích hoạt) "
            "và tuyến tham quan, GeoJSON RFC 7946."
        ),
        "en": "Published heritage sites, narrated points (with trigger-zone radius) and tours, as RFC 7946 GeoJSON.",
    },
    path="/open-data/sites.geojson",
    media_type="application/geo+json",
    issued=date(2026, 11, 25),
    source={
        "vi": "Biên tập viên của các di tích soạn và xuất bản trên hệ thống; tọa độ WGS84.",
        "en": "Written and published in the service by each site's editors; WGS84 coordinates.",
    },
    columns=[
        Column(
            "kind",
            {"vi": "site (di tích), point (điểm), zone (vùng) hoặc tour (tuyến)", "en": "site, point, zone or tour"},
            required=True,
            enum=("site", "point", "zone", "tour"),
        ),
        Column("slug", {"vi": "mã cố định trong di tích", "en": "stable identifier within its site"}, required=True),
        Column(
            "name",
            {"vi": "tên theo ngôn ngữ yêu cầu (lang=vi|en)", "en": "name in the requested language (lang=vi|en)"},
        ),
        Column(
            "zone_radius_m",
            {"vi": "bán kính vùng kích hoạt của một điểm, mét", "en": "trigger-zone radius of a point, metres"},
            "number",
            minimum=0,
        ),
        Column(
            "distance_m",
            {"vi": "chiều dài tuyến tham quan, mét", "en": "length of a tour route, metres"},
            "number",
            minimum=0,
        ),
    ],
)

open_datasets: list[tuple[Dataset, LastUpdated]] = [(SITES_DATASET, published_sites_last_updated)]
