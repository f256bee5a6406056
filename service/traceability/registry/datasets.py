"""Open data: products and producers as CSV (CC-BY-4.0), organizations only, no personal data.

The files are UTF-8 *with* a byte-order mark: Excel on Windows, which most provincial and cooperative
offices use, opens BOM-less UTF-8 CSV as Windows-1258/ANSI and garbles Vietnamese ("Chè" -> "ChÃ¨");
with the BOM it reads UTF-8. Python (`utf-8-sig`), pandas, LibreOffice and R all skip the BOM.
"""

import csv
import io
import typing
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import asyncpg

from service.core.catalog import Column, Dataset, ForeignKey, LastUpdated
from service.traceability.registry.queries import LATEST_DECISION, VERIFIED_OCOP_STARS, VN_TODAY
from service.traceability.registry.schemas import Category

CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
BOM = "\ufeff"

UUID = "uuid"
PRODUCT_CATEGORIES: tuple[str, ...] = typing.get_args(Category)
COMMUNE_CODE = r"^[0-9]{5}$"
SOURCE = {
    "vi": "Hộ, hợp tác xã và doanh nghiệp tự khai báo trên hệ thống; xác minh và chứng nhận do cán bộ của cơ quan "
    "chức năng ghi nhận. Mã xã/phường theo danh mục đơn vị hành chính 2025.",
    "en": "Declared by households, cooperatives and firms in the service; verifications and certificates recorded "
    "by inspectors of an authority. Commune codes from the official 2025 list of administrative units.",
}

PRODUCTS_DATASET = Dataset(
    id="traceability-products",
    title={"vi": "Sản phẩm nông sản, OCOP có truy xuất nguồn gốc", "en": "Traceable farm and OCOP products"},
    description={
        "vi": "Sản phẩm của các hộ, hợp tác xã và doanh nghiệp tại Thái Nguyên: tên, loại, GTIN, số sao OCOP.",
        "en": "Products of Thái Nguyên households, cooperatives and enterprises: names, category, GTIN, OCOP stars.",
    },
    path="/open-data/products.csv",
    media_type="text/csv",
    issued=date(2026, 11, 25),
    primary_key=("product_id",),
    foreign_keys=(ForeignKey("producer_id", "traceability-producers", "producer_id"),),
    source=SOURCE,
    columns=[
        Column(
            "product_id",
            {"vi": "mã định danh cố định (UUID)", "en": "stable identifier (UUID)"},
            format=UUID,
            required=True,
            unique=True,
        ),
        Column("name_vi", {"vi": "tên tiếng Việt", "en": "name in Vietnamese"}, required=True),
        Column("name_en", {"vi": "tên tiếng Anh, nếu có", "en": "name in English, when given"}),
        Column(
            "category",
            {
                "vi": "loại: tea (chè), longan (nhãn), pomelo (bưởi), custard_apple (na), cinnamon (quế), other (khác)",
                "en": "tea, longan, pomelo, custard_apple, cinnamon or other",
            },
            required=True,
            enum=PRODUCT_CATEGORIES,
        ),
        Column(
            "gtin14",
            {"vi": "mã GS1 GTIN-14, nếu sản phẩm có", "en": "GS1 GTIN-14, when the product has one"},
            unique=True,
            pattern=r"^[0-9]{14}$",
        ),
        Column(
            "ocop_stars",
            {
                "vi": "số sao OCOP 1-5, chỉ từ chứng nhận OCOP còn hiệu lực đã được xác minh",
                "en": "OCOP rating 1-5 from a verified, unexpired OCOP certificate",
            },
            "integer",
            minimum=1,
            maximum=5,
        ),
        Column(
            "geographic_indication",
            {"vi": "chỉ dẫn địa lý, ví dụ Tân Cương", "en": "geographic indication, e.g. Tân Cương"},
        ),
        Column(
            "producer_id",
            {"vi": "cơ sở sản xuất (xem producers.csv)", "en": "the producer (see producers.csv)"},
            format=UUID,
            required=True,
        ),
        Column("producer_name", {"vi": "tên cơ sở sản xuất", "en": "the producer's name"}, required=True),
        Column(
            "commune_code",
            {"vi": "mã xã/phường chính thức (2025)", "en": "official 2025 commune/ward code"},
            required=True,
            pattern=COMMUNE_CODE,
        ),
        Column("commune_name", {"vi": "tên xã/phường", "en": "commune or ward"}, required=True),
        Column(
            "updated_at", {"vi": "lần sửa cuối (ISO 8601)", "en": "last change (ISO 8601)"}, "datetime", required=True
        ),
    ],
)
PRODUCERS_DATASET = Dataset(
    id="traceability-producers",
    title={"vi": "Cơ sở sản xuất (hộ, hợp tác xã, doanh nghiệp)", "en": "Producers (households, cooperatives, firms)"},
    description={
        "vi": "Tổ chức sản xuất tại Thái Nguyên: loại, xã/phường, vị trí, trạng thái xác minh, tiêu chuẩn, chứng nhận. "
        "Không có số điện thoại hay dữ liệu cá nhân.",
        "en": "Producing organizations in Thái Nguyên: kind, commune, location, verification, standards, "
        "certifications. No phone numbers or personal data.",
    },
    path="/open-data/producers.csv",
    media_type="text/csv",
    issued=date(2026, 11, 25),
    primary_key=("producer_id",),
    foreign_keys=(ForeignKey("cooperative_id", "traceability-producers", "producer_id"),),
    source=SOURCE,
    columns=[
        Column(
            "producer_id",
            {"vi": "mã định danh cố định (UUID)", "en": "stable identifier (UUID)"},
            format=UUID,
            required=True,
            unique=True,
        ),
        Column(
            "kind",
            {
                "vi": "household (hộ), cooperative (hợp tác xã) hoặc enterprise (doanh nghiệp)",
                "en": "household, cooperative or enterprise",
            },
            required=True,
            enum=("household", "cooperative", "enterprise"),
        ),
        Column("name", {"vi": "tên", "en": "name"}, required=True),
        Column(
            "cooperative_id",
            {"vi": "hợp tác xã mà hộ trực thuộc", "en": "the cooperative a household farm belongs to"},
            format=UUID,
        ),
        Column("province", {"vi": "tỉnh", "en": "province"}, required=True),
        Column(
            "commune_code",
            {"vi": "mã xã/phường chính thức (2025)", "en": "official 2025 commune/ward code"},
            required=True,
            pattern=COMMUNE_CODE,
        ),
        Column("commune_name", {"vi": "tên xã/phường", "en": "commune or ward"}, required=True),
        Column(
            "former_district",
            {
                "vi": "huyện trước sắp xếp năm 2025, để dễ định hướng",
                "en": "district before the 2025 reform, for orientation",
            },
        ),
        Column(
            "lat",
            {
                "vi": "vĩ độ WGS84 (hộ gia đình làm tròn khoảng 1 km)",
                "en": "latitude WGS84 (households rounded to about 1 km)",
            },
            "number",
            minimum=-90,
            maximum=90,
        ),
        Column(
            "lon",
            {
                "vi": "kinh độ WGS84 (hộ gia đình làm tròn khoảng 1 km)",
                "en": "longitude WGS84 (households rounded to about 1 km)",
            },
            "number",
            minimum=-180,
            maximum=180,
        ),
        Column(
            "verified",
            {"vi": "true khi đã được cán bộ xác minh", "en": "true when verified by an inspector"},
            "boolean",
            required=True,
        ),
        Column(
            "standards",
            {
                "vi": "tiêu chuẩn áp dụng (TCVN/QCVN/TCCS), cách nhau bởi ;",
                "en": "standards applied (TCVN/QCVN/TCCS), separated by ;",
            },
        ),
        Column(
            "certifications",
            {
                "vi": "chứng nhận còn hiệu lực đã được cán bộ xác minh (loại:số), cách nhau bởi ;",
                "en": "valid certificates verified by an inspector (kind:number), separated by ;",
            },
        ),
        Column("product_count", {"vi": "số sản phẩm", "en": "number of products"}, "integer", required=True, minimum=0),
        Column(
            "updated_at", {"vi": "lần sửa cuối (ISO 8601)", "en": "last change (ISO 8601)"}, "datetime", required=True
        ),
    ],
)


def render_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # a leading = + - @ (or a TAB or CR, which spreadsheets skip before one) makes them run a formula
    # (CSV injection, OWASP): prefix a quote so the cell stays text
    return "'" + text if text[:1] in _FORMULA_STARTS and not _is_number(text) else text


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


async def product_rows(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        select p.id, p.names ->> 'vi', p.names ->> 'en', p.category, p.gtin14, {VERIFIED_OCOP_STARS.format(p="p")},
               p.geographic_indication, o.id, o.name, o.commune_code, o.commune_name, p.updated_at
        from products p join organizations o on o.id = p.organization_id
        order by o.name, p.names ->> 'vi', p.id
        """  # noqa: S608 - constant SQL fragments
    )


async def producer_rows(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        select o.id, o.kind, o.name, o.parent_id, o.province_name, o.commune_code, o.commune_name,
               o.former_district,
               case when o.kind = 'household' then round(o.lat::numeric, 2) else o.lat::numeric end,
               case when o.kind = 'household' then round(o.lon::numeric, 2) else o.lon::numeric end,
               o.verification_status = 'verified',
               array_to_string(o.standards, ';'),
               (select string_agg(c.kind || ':' || c.number, ';' order by c.kind, c.number)
                from certifications c
                where c.organization_id = o.id and c.valid_from <= {VN_TODAY}
                  and (c.valid_to is null or c.valid_to >= {VN_TODAY})
                  and {LATEST_DECISION.format(c="c")} = 'verified'),
               (select count(*) from products p where p.organization_id = o.id),
               o.updated_at
        from organizations o
        order by o.name, o.id
        """  # noqa: S608 - constant SQL fragments
    )


async def products_last_updated(conn: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "select greatest((select max(updated_at) from products), (select max(created_at) from certification_reviews))"
    )
    return value


async def producers_last_updated(conn: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "select greatest((select max(updated_at) from organizations), (select max(created_at) from certifications), "
        "(select max(created_at) from certification_reviews))"
    )
    return value


async def products_csv(conn: asyncpg.Connection) -> bytes:
    """Every product as the published CSV."""
    return render_csv(PRODUCTS_DATASET.columns, [tuple(r.values()) for r in await product_rows(conn)])


async def producers_csv(conn: asyncpg.Connection) -> bytes:
    """Every producing organization (no personal data) as the published CSV."""
    return render_csv(PRODUCERS_DATASET.columns, [tuple(r.values()) for r in await producer_rows(conn)])


OPEN_DATASETS: list[tuple[Dataset, LastUpdated]] = [
    (PRODUCTS_DATASET, products_last_updated),
    (PRODUCERS_DATASET, producers_last_updated),
]
