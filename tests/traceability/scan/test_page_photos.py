"""The shopper and producer pages draw product, batch and farm photos from their copies: srcset and sizes, the
box reserved by width and height (no layout shift), lazy-loaded; the app JSON keeps plain addresses."""

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support import factories as f
from tests.support.app import UserFactory
from tests.support.photos import drawn_photo, upload_photo


def img_tags(html: str) -> list[str]:
    return re.findall(r"<img [^>]*>", html)


async def test_the_shopper_page_shows_product_batch_and_farm_photos_with_srcset(
    client: AsyncTestClient[Litestar], make_user: UserFactory
) -> None:
    headers, org = await f.farm(client, make_user)
    product_photo = await upload_photo(client, headers, drawn_photo("Chè đinh"))
    batch_photo = await upload_photo(client, headers, drawn_photo("Lô CD2505"), purpose="batch_photo")
    farm_photo = await upload_photo(client, headers, drawn_photo("Đồi chè"))
    patched = await client.patch(
        f"/api/v1/organizations/{org['id']}", json={"photos": [farm_photo["id"]]}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["photos"] == [farm_photo["id"]]
    product = await f.product(client, headers, photos=[product_photo["id"]])
    batch = await f.batch(client, headers, product["id"], photos=[batch_photo["id"]])

    page = await client.get(f"/trace/{batch['code']}")
    assert page.status_code == 200
    hero, gallery, farm = img_tags(page.text)
    pid = product_photo["id"]
    assert f'src="{f.BASE}/api/v1/media/{pid}/w/640"' in hero
    assert (
        f'srcset="{f.BASE}/api/v1/media/{pid}/w/320 320w, {f.BASE}/api/v1/media/{pid}/w/640 640w, '
        f'{f.BASE}/api/v1/media/{pid}/w/960 960w, {f.BASE}/api/v1/media/{pid} 1280w"' in hero
    )
    for tag in (hero, gallery, farm):
        assert 'width="640" height="480" loading="lazy"' in tag and " sizes=" in tag and 'alt="Ảnh' in tag
    assert f"/api/v1/media/{batch_photo['id']}/w/320 320w" in gallery
    assert f"/api/v1/media/{farm_photo['id']}/w/640" in farm
    assert len(page.content) < 30_000
    for tag in (hero, gallery, farm):  # every address the page names is served
        for url in re.findall(r"(https://trace\.example\.vn/api/v1/media/[^\s\"]+)", tag):
            assert (await client.head(url.removeprefix(f.BASE))).status_code == 200, url

    as_json = await client.get(f"/trace/{batch['code']}", headers={"Accept": "application/json"})
    assert as_json.json()["photos"] == [f"{f.BASE}/api/v1/media/{pid}"]

    producer = await client.get(f"/producers/{org['id']}")
    assert producer.status_code == 200
    farm_shot, thumb = img_tags(producer.text)
    assert f"/api/v1/media/{farm_photo['id']}/w/640" in farm_shot
    assert f'src="/api/v1/media/{pid}/w/640"' in thumb and 'sizes="6rem"' in thumb and 'alt=""' in thumb
