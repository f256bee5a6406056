"""The pages a visitor opens from a QR sign: the site, each stop with its audio, the signs to print."""

import re

import zxingcpp

from service.core.qr import matrix_image
from service.tourism.pages.scripts import MEDIA_SESSION_PATH
from tests.support.tourism import BASE, SITE, Client, assert_problem


def svg_matrix(svg: str) -> list[list[bool]]:
    """Read back the module matrix of a QR SVG drawn as horizontal runs ("M{x} {y}h{w}v1h-{w}z")."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))  # type: ignore[union-attr]
    matrix = [[False] * size for _ in range(size)]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)", svg):
        for dx in range(int(width)):
            matrix[int(y)][int(x) + dx] = True
    return matrix


async def test_a_stop_page_plays_nothing_by_itself_and_has_captions_and_transcript(
    client: Client, published_site: str
) -> None:
    page = await client.get(f"/g/{published_site}/p1")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"  # said once
    csp = page.headers["content-security-policy"]
    # one same-origin script file (lock-screen controls), nothing inline
    assert "script-src 'self';" in csp and "media-src 'self'" in csp and "default-src 'none'" in csp
    html = page.text
    assert '<html lang="vi">' in html
    audio = re.search(r"<audio[^>]*>", html).group(0)  # type: ignore[union-attr]
    assert 'controls preload="none"' in audio and "autoplay" not in html
    vtt = re.search(r'<track kind="captions" src="([^"]+)" srclang="vi"', html).group(1)  # type: ignore[union-attr]
    captions = await client.get(vtt)
    assert captions.status_code == 200 and captions.text.startswith("WEBVTT")
    audio_src = re.search(r'<audio controls preload="none" src="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert (await client.head(audio_src)).status_code == 200
    assert "Xin chào." in html and "Mời vào." in html  # the transcript, in the page
    assert f'rel="next" href="/g/{SITE}/p2?lang=vi"' in html  # the tour's next stop
    assert 'rel="prev"' not in html  # the first stop has none
    assert "Tôi đang ở đây" in html
    scripts = re.findall(r"<script[^>]*>[^<]*</script>", html)
    assert scripts == [f'<script src="{MEDIA_SESSION_PATH}" defer></script>'], scripts
    assert 'data-title="Điểm p1" data-site="Khu thử nghiệm Hồ Núi Cốc"' in audio
    assert len(page.content) < 30_000

    english = await client.get(f"/g/{published_site}/p2", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text and "I am here" in english.text
    assert 'rel="prev"' in english.text and 'rel="next"' in english.text
    assert english.headers["content-language"] == "en"
    as_json = await client.get(f"/g/{published_site}/p1", headers={"Accept": "application/json"})
    assert as_json.json()["transcript"] == ["Xin chào.", "Mời vào."]


async def test_the_media_session_script_is_a_cached_same_origin_file(client: Client) -> None:
    script = await client.get(MEDIA_SESSION_PATH)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "navigator.mediaSession" in script.text and "setActionHandler" in script.text
    assert_problem(await client.get("/assets/js/media-session.000000000000.js"), 404, "script_not_found")


async def test_the_site_page_lists_stops_tours_and_the_signs(client: Client, published_site: str) -> None:
    page = await client.get(f"/g/{published_site}")
    assert page.status_code == 200
    html = page.text
    assert "Khu thử nghiệm Hồ Núi Cốc" in html
    for stop in ("p1", "p2", "p3"):
        assert f'href="/g/{SITE}/{stop}?lang=vi#nghe">Tôi đang ở đây' in html
    assert "Vòng hồ" in html and "đi bộ" in html
    assert f'href="/g/{SITE}/signs.pdf"' in html
    assert "/api/v1/" not in html
    assert_problem(await client.get("/g/khong-co"), 404, "site_not_found")
    assert_problem(await client.get(f"/g/{SITE}/khong-co"), 404, "point_not_found")


async def test_drafts_have_no_pages(client: Client, draft_site: str) -> None:
    assert_problem(await client.get(f"/g/{draft_site}"), 404, "site_not_found")
    assert_problem(await client.get(f"/g/{draft_site}/signs.pdf"), 404, "site_not_found")


async def test_each_stop_has_a_qr_code_of_its_short_address(client: Client, published_site: str) -> None:
    response = await client.get(f"/g/{published_site}/p2/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    decoded = zxingcpp.read_barcodes(matrix_image(svg_matrix(response.text), 4))
    assert decoded[0].text == f"{BASE}/g/{SITE}/p2"
    again = await client.get(f"/g/{published_site}/p2/qr.svg", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert_problem(await client.get(f"/g/{published_site}/nope/qr.svg"), 404, "point_not_found")


async def test_the_signage_sheet_has_one_a5_sign_per_stop(client: Client, published_site: str) -> None:
    response = await client.get(f"/g/{published_site}/signs.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 3
    # A5 portrait is 419.53 x 595.28 points
    assert re.search(rb"/MediaBox \[0 0 419\.53 595\.28\]", pdf), pdf[:2000]
