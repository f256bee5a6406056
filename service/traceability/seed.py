"""Demo traceability data: a Tân Cương tea cooperative, longan, pomelo and custard-apple farms, full histories.

Everything is marked "(dữ liệu mẫu / demo)". GTINs use GS1 Vietnam's 893 prefix with a made-up company
number (99901), with correct check digits. Running the seed twice changes nothing.
"""

import asyncio
import uuid
from datetime import date, datetime
from decimal import Decimal

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core import clock
from service.media.drawn import drawn_photo
from service.media.service import store_server_bytes
from service.media.types import Purpose
from service.settings import Settings
from service.storage import MediaStore
from service.traceability.batches import events
from service.traceability.batches import queries as batch_queries
from service.traceability.batches import service as batches
from service.traceability.batches.schemas import (
    BatchCreate,
    EventCreate,
    InspectionCreate,
    QuantityRef,
    RecallCreate,
    TransformationCreate,
)
from service.traceability.identifiers.gs1 import gtin_check_digit
from service.traceability.oversight import service as oversight
from service.traceability.oversight.schemas import CertificationReviewCreate
from service.traceability.places import service as place_register
from service.traceability.places.schemas import PlaceCreate
from service.traceability.registry import communes as places
from service.traceability.registry import service as services
from service.traceability.registry.schemas import (
    CertificationCreate,
    OrganizationCreate,
    OrganizationUpdate,
    PlotCreate,
    ProductCreate,
    ProductRead,
    VerificationUpdate,
)

DEMO = "(dữ liệu mẫu / demo)"
SEED_PHONE = "+84200000000"  # an inactive account with an unusable password: it only signs the demo records
SEED_INSPECTOR_PHONE = "+84200000001"  # the same, for what the demo authority verified
AUTHORITY_NAME = f"Sở Nông nghiệp và Môi trường Thái Nguyên {DEMO}"
COOP_NAME = f"HTX chè Tân Cương {DEMO}"
ILLUSTRATION = "Ảnh minh hoạ, vẽ tự động / drawn illustration"


def demo_gtin(item: int) -> str:
    body = f"89399901{item:04d}"
    return body + str(gtin_check_digit(body))


def at(day: str, hour: int = 8, minute: int = 0) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=clock.VN_TZ)


def commune_code(name: str) -> str:
    found = places.commune_by_name(name)
    assert found is not None, name
    return found.code


async def seed_user(conn: asyncpg.Connection) -> CurrentUser:
    user_id = await conn.fetchval(
        """
        insert into users (phone, password_hash, full_name, role, is_active)
        values ($1, '!demo-seed-no-login', $2, 'admin', false)
        on conflict (phone) do update set full_name = excluded.full_name
        returning id
        """,
        SEED_PHONE,
        f"Nhập liệu mẫu {DEMO}",
    )
    return CurrentUser(id=user_id, role="admin")


async def seed_inspector(conn: asyncpg.Connection) -> CurrentUser:
    """The demo authority and an inspector acting for it: verified claims in the demo name who verified them."""
    authority_id = await conn.fetchval(
        """
        insert into authorities (name, name_en) values ($1, $2)
        on conflict (name) do update set name_en = excluded.name_en
        returning id
        """,
        AUTHORITY_NAME,
        "Thái Nguyên Department of Agriculture and Environment (demo)",
    )
    user_id = await conn.fetchval(
        """
        insert into users (phone, password_hash, full_name, role, authority_id, is_active)
        values ($1, '!demo-seed-no-login', $2, 'inspector', $3, false)
        on conflict (phone) do update set authority_id = excluded.authority_id
        returning id
        """,
        SEED_INSPECTOR_PHONE,
        f"Cán bộ kiểm tra mẫu {DEMO}",
        authority_id,
    )
    return CurrentUser(id=user_id, role="inspector")


async def seed_traceability(conn: asyncpg.Connection, settings: Settings, store: MediaStore | None = None) -> str:
    """Load the demo producers, products and batches once; returns a one-line summary.

    With a media store, products, batches and farms get photos: drawn here (the repository ships no
    photographs), each saying it is an illustration, stored like uploads with their srcset copies.
    """
    if await conn.fetchval("select exists(select 1 from organizations where name = $1)", COOP_NAME):
        return "traceability demo: already seeded"
    base = settings.base_url
    async with conn.transaction():
        admin = await seed_user(conn)
        inspector = await seed_inspector(conn)

        async def photo(title: str, purpose: Purpose, hue_of: str | None = None) -> list[uuid.UUID]:
            if store is None:
                return []
            data = await asyncio.to_thread(drawn_photo, title.replace(DEMO, "").strip(), ILLUSTRATION, hue_of=hue_of)
            return [await store_server_bytes(conn, store, admin.id, purpose, data, "image/jpeg")]

        async def verified(cert_id: uuid.UUID) -> None:
            await oversight.review_certification(
                conn, inspector, cert_id, CertificationReviewCreate(decision="verified")
            )

        tan_cuong = commune_code("Tân Cương")

        async def org(body: OrganizationCreate) -> uuid.UUID:
            created = await services.create_organization(conn, admin, body)
            await services.set_verification(conn, inspector, created.id, VerificationUpdate(status="verified"))
            photos = await photo(body.name, "product_photo", hue_of="farm")
            if photos:
                await services.update_organization(conn, admin, created.id, OrganizationUpdate(photos=photos))
            return created.id

        coop = await org(
            OrganizationCreate(
                kind="cooperative",
                name=COOP_NAME,
                commune_code=tan_cuong,
                former_district="TP Thái Nguyên",
                address_line=f"Xóm Hồng Thái 2 {DEMO}",
                lat=21.5652,
                lon=105.7631,
                description={
                    "vi": f"Hợp tác xã chè vùng chỉ dẫn địa lý Tân Cương {DEMO}",
                    "en": "Tân Cương tea co-op (demo)",
                },
                standards=["TCVN 11041-2:2017", "VietGAP"],
            )
        )
        households = [
            await org(
                OrganizationCreate(
                    name=f"Hộ chè {person} {DEMO}",
                    commune_code=tan_cuong,
                    former_district="TP Thái Nguyên",
                    lat=lat,
                    lon=lon,
                    parent_id=coop,
                )
            )
            for person, lat, lon in (("Nguyễn Văn Hùng", 21.5631, 105.7598), ("Lê Thị Lan", 21.5689, 105.7664))
        ]
        longan = await org(
            OrganizationCreate(
                name=f"Hộ nhãn Đồng Hỷ {DEMO}", commune_code=commune_code("Đồng Hỷ"), lat=21.6405, lon=105.9050
            )
        )
        pomelo = await org(
            OrganizationCreate(
                kind="enterprise",
                name=f"Trang trại bưởi Trại Cau {DEMO}",
                commune_code=commune_code("Trại Cau"),
                lat=21.6290,
                lon=105.9440,
            )
        )
        custard = await org(
            OrganizationCreate(
                name=f"Hộ na La Hiên {DEMO}", commune_code=commune_code("La Hiên"), lat=21.7120, lon=106.0520
            )
        )
        for kind, issuer, number, stars, decision in (
            ("vietgap", "Trung tâm Chứng nhận phù hợp (demo)", "VietGAP-TT-DEMO-0321", None, None),
            ("geographic_indication", "Cục Sở hữu trí tuệ", "CDĐL-00004 Tân Cương (demo)", None, None),
            ("organic", "Tổ chức chứng nhận hữu cơ (demo)", "HC-DEMO-0099", None, None),
        ):
            cert = await services.add_certification(
                conn,
                admin,
                coop,
                CertificationCreate(
                    kind=kind,  # type: ignore[arg-type]
                    issuer=issuer,
                    number=number,
                    valid_from=date(2024, 3, 1),
                    valid_to=date(2027, 3, 1),
                    stars=stars,
                    decision_number=decision,
                ),
            )
            if kind != "organic":  # the organic one stays declared, awaiting verification
                await verified(cert.id)

        async def ocop(product_id: uuid.UUID, org_id: uuid.UUID, stars: int, number: str) -> None:
            """OCOP stars are a verified certificate of the product, not a number typed in."""
            cert = await services.add_certification(
                conn,
                admin,
                org_id,
                CertificationCreate(
                    kind="ocop",
                    issuer="UBND tỉnh Thái Nguyên",
                    number=number,
                    valid_from=date(2024, 3, 1),
                    valid_to=date(2027, 3, 1),
                    stars=stars,
                    decision_number="QĐ 2145/QĐ-UBND (demo)",
                    product_id=product_id,
                ),
            )
            await verified(cert.id)

        async def product(
            org_id: uuid.UUID,
            vi: str,
            en: str,
            category: str,
            stars: int | None,
            gtin: int | None,
            gi: str | None = None,
            life: int | None = None,
        ) -> ProductRead:
            body = ProductCreate(
                organization_id=org_id,
                names={"vi": f"{vi} {DEMO}", "en": f"{en} (demo)"},
                descriptions={"vi": f"Sản phẩm mẫu để trình diễn truy xuất nguồn gốc {DEMO}"},
                category=category,  # type: ignore[arg-type]
                ocop_stars=stars,
                gtin=None if gtin is None else demo_gtin(gtin),
                geographic_indication=gi,
                shelf_life_days=life,
                photos=await photo(vi, "product_photo"),
            )
            return await services.create_product(conn, admin, body)

        fresh = await product(
            households[0], "Chè búp tươi Tân Cương", "Fresh Tân Cương tea leaves", "tea", None, None, "Tân Cương", 3
        )
        dinh = await product(coop, "Chè đinh Tân Cương", "Tân Cương needle tea", "tea", 5, 1, "Tân Cương", 730)
        await product(coop, "Chè móc câu Tân Cương", "Tân Cương hook tea", "tea", 4, 2, "Tân Cương", 540)
        nhan = await product(longan, "Nhãn lồng Đồng Hỷ", "Đồng Hỷ longan", "longan", 3, 3, None, 10)
        buoi = await product(pomelo, "Bưởi Trại Cau", "Trại Cau pomelo", "pomelo", 3, None, None, 45)
        na = await product(custard, "Na La Hiên", "La Hiên custard apple", "custard_apple", 4, None, None, 7)
        for rated, owner, stars, number in (
            (dinh, coop, 5, "OCOP-DEMO-0417"),
            (nhan, longan, 3, "OCOP-DEMO-0520"),
            (na, custard, 4, "OCOP-DEMO-0611"),
        ):
            await ocop(rated.id, owner, stars, number)

        hill = await services.create_plot(
            conn,
            admin,
            PlotCreate(
                organization_id=households[0],
                name=f"Đồi chè Hồng Thái {DEMO}",
                commune_code=tan_cuong,
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [105.7590, 21.5625],
                            [105.7605, 21.5625],
                            [105.7605, 21.5637],
                            [105.7590, 21.5637],
                            [105.7590, 21.5625],
                        ]
                    ],
                },
                area_m2=Decimal("5400"),
                crops=["chè Trung du", "chè LDP1"],
            ),
        )

        async def place(
            owner: uuid.UUID, kind: str, vi: str, en: str, commune: str, lat: float, lon: float
        ) -> uuid.UUID:
            body = msgspec.convert(
                {
                    "organization_id": owner,
                    "names": {"vi": f"{vi} {DEMO}", "en": f"{en} (demo)"},
                    "kind": kind,
                    "commune_code": commune_code(commune),
                    "lat": lat,
                    "lon": lon,
                },
                PlaceCreate,
                strict=False,
            )
            return (await place_register.create_place(conn, admin, body)).id

        tea_works = await place(
            coop, "packhouse", "Xưởng chè HTX Tân Cương", "Tân Cương co-op tea works", "Tân Cương", 21.565, 105.763
        )
        tea_store = await place(
            coop, "warehouse", "Kho HTX chè Tân Cương", "Tân Cương co-op store", "Tân Cương", 21.566, 105.764
        )
        tea_shop = await place(
            coop,
            "shop",
            "Cửa hàng chè Tân Cương, phố Hoàng Văn Thụ",
            "Tân Cương tea shop, Hoàng Văn Thụ street",
            "Phan Đình Phùng",
            21.594,
            105.846,
        )
        longan_house = await place(
            longan, "packhouse", "Nhà sơ chế nhãn Đồng Hỷ", "Đồng Hỷ longan packhouse", "Đồng Hỷ", 21.641, 105.905
        )
        market = await place(
            longan,
            "market",
            "Chợ Thái (chợ trung tâm Thái Nguyên)",
            "Thái market, Thái Nguyên",
            "Phan Đình Phùng",
            21.591,
            105.845,
        )
        pomelo_store = await place(
            pomelo, "warehouse", "Kho bưởi Trại Cau", "Trại Cau pomelo store", "Trại Cau", 21.578, 105.974
        )
        custard_house = await place(
            custard,
            "packhouse",
            "Nhà đóng gói na La Hiên",
            "La Hiên custard apple packhouse",
            "La Hiên",
            21.712,
            106.052,
        )

        # where each harvest starts: every stage of a journey names a place (Circular 02/2024/TT-BKHCN)
        tea_hill = await place(
            households[0], "farm", "Đồi chè Hồng Thái", "Hồng Thái tea hill", "Tân Cương", 21.5631, 105.7598
        )
        longan_orchard = await place(
            longan, "farm", "Vườn nhãn Đồng Hỷ", "Đồng Hỷ longan orchard", "Đồng Hỷ", 21.6405, 105.9050
        )
        pomelo_farm = await place(
            pomelo, "farm", "Vườn bưởi Trại Cau", "Trại Cau pomelo orchard", "Trại Cau", 21.6290, 105.9440
        )
        custard_orchard = await place(
            custard, "farm", "Vườn na La Hiên", "La Hiên custard apple orchard", "La Hiên", 21.7120, 106.0520
        )

        async def lot(body: BatchCreate) -> uuid.UUID:
            return (await batches.create_batch(conn, admin, body, base, key=None)).batch.id

        async def step(
            batch_id: uuid.UUID,
            biz_step: str,
            when: datetime,
            *,
            quantity: Decimal | None = None,
            unit: str | None = None,
            notes: str | None = None,
            destination: str | None = None,
            where: uuid.UUID | None = None,
        ) -> None:
            body = EventCreate(
                biz_step=biz_step,
                event_time=when,
                quantity=quantity,
                unit=unit,
                notes=notes,
                destination=destination,
                place_id=where,
            )
            await events.append_event(conn, admin, batch_id, body, base)

        leaves = await lot(
            BatchCreate(
                product_id=fresh.id,
                lot="TC250510-DEMO",
                quantity=Decimal("120"),
                unit="kg",
                harvest_date=date(2025, 5, 10),
                plot_id=hill.id,
                event_time=at("2025-05-10", 6, 30),
                notes=f"Hái một tôm hai lá {DEMO}",
                place_id=tea_hill,
            )
        )
        dried = await batches.create_transformation(
            conn,
            admin,
            TransformationCreate(
                inputs=[QuantityRef(batch_id=leaves, quantity=Decimal("100"), unit="kg")],
                output=BatchCreate(
                    product_id=dinh.id,
                    lot="CD2505-DEMO",
                    quantity=Decimal("21.5"),
                    unit="kg",
                    harvest_date=date(2025, 5, 10),
                    photos=await photo("Chè đinh Tân Cương, lô CD2505", "batch_photo", hue_of="batch-tea"),
                ),
                event_time=at("2025-05-11", 9),
                notes=f"Sao sấy thủ công, hiệu suất 21,5% {DEMO}",
                place_id=tea_works,
            ),
            base,
        )
        dried_id = dried.output.id
        await step(
            dried_id,
            "packing",
            at("2025-05-12", 8),
            quantity=Decimal("20"),
            unit="kg",
            notes=f"Túi 200 g hút chân không {DEMO}",
            where=tea_works,
        )
        await step(dried_id, "storing", at("2025-05-12", 16), where=tea_store)
        await events.record_inspection(
            conn,
            inspector,
            dried_id,
            InspectionCreate(
                result="conformant",
                notes=f"Mẫu đạt QCVN 8-2:2011/BYT {DEMO}",
                event_time=at("2025-05-13", 10),
                place_id=tea_store,
            ),
            base,
        )
        await step(
            dried_id,
            "shipping",
            at("2025-05-15", 7),
            quantity=Decimal("20"),
            unit="kg",
            where=tea_store,
        )
        await step(dried_id, "receiving", at("2025-05-15", 15), where=tea_shop)
        await step(dried_id, "retail_selling", at("2025-05-16", 9), where=tea_shop)

        nhan_lot = await lot(
            BatchCreate(
                product_id=nhan.id,
                lot="NH250805-DEMO",
                quantity=Decimal("800"),
                unit="kg",
                harvest_date=date(2025, 8, 5),
                event_time=at("2025-08-05", 7),
                place_id=longan_orchard,
                photos=await photo("Nhãn lồng Đồng Hỷ, lô NH250805", "batch_photo", hue_of="batch-longan"),
            )
        )
        await step(nhan_lot, "packing", at("2025-08-05", 14), where=longan_house)
        await step(
            nhan_lot,
            "shipping",
            at("2025-08-06", 5),
            quantity=Decimal("750"),
            unit="kg",
            where=longan_house,
        )
        await step(nhan_lot, "receiving", at("2025-08-06", 7), where=market)
        await step(nhan_lot, "retail_selling", at("2025-08-06", 8), where=market)
        buoi_lot = await lot(
            BatchCreate(
                product_id=buoi.id,
                quantity=Decimal("300"),
                unit="quả",
                harvest_date=date(2025, 10, 20),
                event_time=at("2025-10-20", 8),
                place_id=pomelo_farm,
            )
        )
        await step(buoi_lot, "storing", at("2025-10-21", 8), where=pomelo_store)
        na_lot = await lot(
            BatchCreate(
                product_id=na.id,
                lot="NA250812-DEMO",
                quantity=Decimal("150"),
                unit="kg",
                harvest_date=date(2025, 8, 12),
                event_time=at("2025-08-12", 6),
                place_id=custard_orchard,
            )
        )
        await step(na_lot, "packing", at("2025-08-12", 11), where=custard_house)
        await events.recall_batch(
            conn,
            inspector,
            na_lot,
            RecallCreate(reason=f"Mẫu kiểm tra có dư lượng thuốc BVTV vượt ngưỡng {DEMO}"),
            base,
        )
    # every demo head goes into the transparency log now, not at the next checkpoint (heads wait in a queue
    # until their transaction commits: migration 0280)
    await batch_queries.log_pending_heads(conn)
    photos = "" if store is None else f", drawn photos in the {store.kind} media store"
    return "traceability demo: 6 producers, 6 products, 11 named places, 5 batches with histories (1 recalled)" + photos
