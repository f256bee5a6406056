"""Tourism's entries in the open-data catalogue (served by core.catalog; the data at /open-data/sites.geojson)."""

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
    columns=[
        Column(name="kind", description="site, point, zone or tour"),
        Column(name="slug", description="stable identifier within its site"),
        Column(name="name", description="name in the requested language (lang=vi|en)"),
        Column(name="zone_radius_m", description="trigger-zone radius of a point, metres", type="number"),
        Column(name="distance_m", description="length of a tour route, metres", type="number"),
    ],
)

open_datasets: list[tuple[Dataset, LastUpdated]] = [(SITES_DATASET, published_sites_last_updated)]
