"""The site and point pages as plain string building: every content field through html.escape. No script but
one same-origin file on the point page (lock-screen controls through the Media Session API; `defer`, and the page
works fully without it).

The point page is the audio guide without an app: a native <audio controls preload="none"> (nothing plays by
itself: WCAG 1.4.2), captions from the WebVTT track, and the transcript in the page (WCAG 1.2.1).
"""

from service.core.html_page import BASE_CSS, e, html_document
from service.media.pictures import Picture, img_html
from service.tourism.pages.scripts import MEDIA_SESSION_PATH
from service.tourism.pages.view import PointPage, guide_path
from service.tourism.sites.schemas import PointPublic, SitePublic

CSS = BASE_CSS + (
    "audio{width:100%;margin:.5rem 0}.here{display:inline-block;margin-top:.3rem;padding:.3rem .7rem;"
    "border:2px solid #0b5cad;border-radius:.4rem;font-weight:600;text-decoration:none}"
    ".pn{display:flex;flex-wrap:wrap;gap:.5rem;justify-content:space-between}.pn>*{flex:1 1 10rem}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem 1rem;margin:.3rem 0}dt{color:#5c5c5c}dd{margin:0}"
    ".note{background:#fff4ce;color:#3d2e00;padding:.5rem .8rem;border-radius:.4rem}"
    "figure{margin:.5rem 0}.stars{color:#8a5600}summary h2{display:inline}"
)

WORDS = {
    "vi": {
        "other_lang": "English",
        "visit": "Thông tin tham quan",
        "address": "Địa chỉ",
        "hours": "Giờ mở cửa",
        "tickets": "Vé",
        "map": "Xem bản đồ",
        "points": "Các điểm thuyết minh",
        "listen": "Nghe thuyết minh",
        "minutes": "phút nghe",
        "here": "Tôi đang ở đây",
        "tours": "Lộ trình tham quan",
        "walk": "đi bộ",
        "boat": "đi thuyền",
        "drive": "đi xe",
        "about": "khoảng",
        "history": "Lịch sử",
        "producers": "Sản phẩm OCOP gần đây",
        "check": "Vị trí trên bản đồ đang được kiểm tra lại, có thể lệch.",
        "signs": "In biển mã QR cho các điểm (A5, PDF)",
        "back": "Về trang di tích",
        "transcript": "Lời thuyết minh",
        "no_audio": "Điểm này chưa có bản thuyết minh âm thanh.",
        "no_audio_support": "Trình duyệt này không phát được âm thanh; lời thuyết minh ở bên dưới.",
        "captions": "Phụ đề",
        "previous": "Điểm trước",
        "next": "Điểm tiếp theo",
        "photo": "Ảnh",
        "national": "Di tích quốc gia",
        "special_national": "Di tích quốc gia đặc biệt",
        "provincial": "Di tích cấp tỉnh",
        "unranked": "",
    },
    "en": {
        "other_lang": "Tiếng Việt",
        "visit": "Visiting",
        "address": "Address",
        "hours": "Opening hours",
        "tickets": "Tickets",
        "map": "Open map",
        "points": "Audio guide stops",
        "listen": "Listen",
        "minutes": "min of audio",
        "here": "I am here",
        "tours": "Tours",
        "walk": "on foot",
        "boat": "by boat",
        "drive": "by car",
        "about": "about",
        "history": "History",
        "producers": "OCOP products nearby",
        "check": "The map position is being checked again and may be off.",
        "signs": "Print QR signs for the stops (A5, PDF)",
        "back": "Back to the site",
        "transcript": "Transcript",
        "no_audio": "This stop has no audio narration yet.",
        "no_audio_support": "This browser cannot play audio; the transcript is below.",
        "captions": "Captions",
        "previous": "Previous stop",
        "next": "Next stop",
        "photo": "Photo",
        "national": "National heritage site",
        "special_national": "Special national heritage site",
        "provincial": "Provincial heritage site",
        "unranked": "",
    },
}


def _map_link(lat: float, lon: float, label: str) -> str:
    return (
        f'<a href="https://www.openstreetmap.org/?mlat={lat:.5f}&amp;mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}">'
        f"{label}</a>"
    )


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{e(part.strip())}</p>" for part in text.split("\n") if part.strip())


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _point_item(site: SitePublic, point: PointPublic, w: dict[str, str], lang: str) -> str:
    path = guide_path(site.slug, point.slug)
    duration = (
        f' <span class="muted">{_minutes(point.tracks[0].duration_s)} {w["minutes"]}</span>' if point.tracks else ""
    )
    return (
        f'<li><a href="{e(path)}?lang={lang}">{e(point.title)}</a>{duration}<br>'
        f'<a class="here" href="{e(path)}?lang={lang}#nghe">{w["here"]}</a></li>'
    )


def render_site_page(site: SitePublic, photos: list[Picture], lang: str) -> str:
    w = WORDS[lang]
    out = [f"<h1>{e(site.name)}</h1>"]
    ranking = w.get(site.ranking, "")
    if ranking:
        out.append(f'<p class="muted">{ranking}</p>')
    if photos:
        out.append(img_html(photos[0], site.name))
    if site.summary:
        out.append(_paragraphs(site.summary))
    out.append(f'<section id="visit"><h2>{w["visit"]}</h2><dl>')
    for label, value in ((w["address"], site.address), (w["hours"], site.opening_hours), (w["tickets"], site.tickets)):
        if value:
            out.append(f"<dt>{label}</dt><dd>{e(value)}</dd>")
    out.append(f"</dl><p>{_map_link(site.lat, site.lon, w['map'])}</p>")
    if site.coordinates_status == "needs_checking":
        out.append(f'<p class="note">{w["check"]}</p>')
    out.append("</section>")
    if site.points:
        out.append(f'<h2 id="points">{w["points"]}</h2><ol>')
        out.extend(_point_item(site, point, w, lang) for point in site.points)
        out.append("</ol>")
    if site.tours:
        titles = {p.slug: p.title for p in site.points}
        out.append(f'<h2 id="tours">{w["tours"]}</h2><ul>')
        for tour in site.tours:
            stops = " → ".join(e(titles.get(s, s)) for s in tour.stops)
            minutes = max(1, round(tour.duration_s / 60))
            length = f"{tour.distance_m / 1000:.1f} km, {w['about']} {minutes} min {w[tour.mode]}"
            description = f"<br>{e(tour.description)}" if tour.description else ""
            out.append(
                f'<li><strong>{e(tour.title)}</strong> <span class="muted">({length})</span>{description}'
                f'<br><span class="muted">{stops}</span></li>'
            )
        out.append("</ul>")
    if site.history:
        out.append(f'<details><summary><h2 id="history">{w["history"]}</h2></summary>')
        out.append(_paragraphs(site.history))
        out.append("</details>")
    if site.nearby_producers:
        out.append(f'<h2 id="producers">{w["producers"]}</h2><ul>')
        for producer in site.nearby_producers:
            stars = f' <span class="stars">{"★" * producer.stars}</span>' if producer.stars else ""
            km = f' <span class="muted">{producer.distance_m / 1000:.1f} km</span>'
            out.append(f'<li><a href="{e(producer.url)}">{e(producer.name)}</a>{stars}{km}</li>')
        out.append("</ul>")
    out.append(f'<footer><a href="{e(guide_path(site.slug))}/signs.pdf">{w["signs"]}</a></footer>')
    return html_document(lang=lang, title=site.name, css=CSS, body="".join(out), other_lang_label=w["other_lang"])


def _neighbour(point: PointPublic | None, site: str, label: str, w: dict[str, str], lang: str, rel: str) -> str:
    if point is None:
        return "<div></div>"
    path = guide_path(site, point.slug)
    return (
        f'<div><span class="muted">{label}</span><br><a rel="{rel}" href="{e(path)}?lang={lang}">{e(point.title)}</a>'
        f'<br><a class="here" href="{e(path)}?lang={lang}#nghe">{w["here"]}</a></div>'
    )


def render_point_page(page: PointPage, lang: str) -> str:
    w = WORDS[lang]
    site, point = page.site, page.point
    out = [
        f'<p><a href="{e(guide_path(site.slug))}?lang={lang}">← {e(site.name)}</a></p>',
        f"<h1>{e(point.title)}</h1>",
    ]
    if page.pictures:
        out.append(img_html(page.pictures[0], f"{w['photo']}: {point.title}"))
    out.append(f'<section id="nghe"><h2>{w["listen"]}</h2>')
    track = page.track
    if track is None:
        out.append(f"<p>{w['no_audio']}</p>")
    else:
        tour_title = f' data-tour="{e(page.tour.title)}"' if page.tour is not None else ""
        out.append(
            f'<audio controls preload="none" src="{e(track.url)}" data-title="{e(point.title)}" '
            f'data-site="{e(site.name)}"{tour_title}>'
            f'<track kind="captions" src="{e(track.vtt_url)}" srclang="{e(track.lang)}" '
            f'label="{w["captions"]} ({e(track.lang)})" default>'
            f"{w['no_audio_support']}</audio>"
            f'<p class="muted">{e(track.label)} · {_minutes(track.duration_s)}</p>'
        )
    out.append("</section>")
    if page.transcript:
        out.append(f'<h2 id="transcript">{w["transcript"]}</h2>')
        out.extend(f"<p>{e(line)}</p>" for line in page.transcript)
    for n, extra in enumerate(page.pictures[1:4], start=2):
        word = w["photo"]
        out.append(f"<figure>{img_html(extra, f'{word} {n}: {point.title}')}</figure>")
    out.append(f"<p>{_map_link(point.lat, point.lon, w['map'])}</p>")
    if page.previous is not None or page.next is not None:
        tour = f' aria-label="{e(page.tour.title)}"' if page.tour is not None else ""
        out.append(
            f'<nav class="pn"{tour}>{_neighbour(page.previous, site.slug, w["previous"], w, lang, "prev")}'
            f"{_neighbour(page.next, site.slug, w['next'], w, lang, 'next')}</nav>"
        )
    return html_document(
        lang=lang,
        title=f"{point.title} – {site.name}",
        css=CSS,
        body="".join(out),
        other_lang_label=w["other_lang"],
        head=f'<script src="{MEDIA_SESSION_PATH}" defer></script>' if track is not None else "",
    )
