"""The statistics pages people look at on a phone: server-rendered HTML with inline SVG charts, no script.

Behind sign-in with the API's rules (service.py): /stats/producer (farmers and cooperatives: their own
products; officials: everyone's), /stats/sites (editors: their sites; officials: all), /stats/province
(inspectors and admins). Ranges are links: 7, 30, 90 or 365 days. A browser signs in at /sign-in (service/auth/pages.py,
a session cookie these pages read besides a bearer token); the only form is the account bar's sign-out button.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from service.auth.guards import CurrentUserDep
from service.auth.pages import ACCOUNT_BAR_CSS, account_bar
from service.auth.web import (
    PAGE_EXCEPTION_HANDLERS,
    PAGE_OPT,
    PAGE_SIGN_IN,
    SIGNED_IN_PAGE_HEADERS,
    SignedIn,
    SignedInDep,
)
from service.core import clock
from service.core.db import DB
from service.core.errors import Forbidden
from service.core.html_page import BASE_CSS, e, html_document, html_response, page_language
from service.statistics.charts import bar_chart, column_chart, commune_map, table
from service.statistics.schemas import Bucket, ScanRow
from service.statistics.service import PROVINCE_ROLES, download_stats, first_scan_communes, play_stats, scan_stats
from service.traceability import public as traceability

CSS = (
    BASE_CSS
    + ACCOUNT_BAR_CSS
    + (
        "table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.4rem 0}"
        # the caption names the table for screen readers; the section's heading already says it on screen
        "caption{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
        "th{white-space:nowrap}th,td{text-align:left;padding:.25rem .3rem;border-bottom:1px solid #ddd}"
        "td:last-child{text-align:right}"
        ".ranges a{display:inline-block;margin:.2rem .5rem .2rem 0;padding:.35rem .6rem;border:1px solid #0b5cad;"
        "border-radius:.3rem;text-decoration:none}.ranges a[aria-current]{background:#0b5cad;color:#fff}"
        ".total{font-size:1.6rem;font-weight:700;margin:.2rem 0}"
    )
)
RANGES = (7, 30, 90, 365)
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "zh": "中文", "ko": "한국어", "ja": "日本語", "fr": "Français"}
Days = Annotated[int, QueryParameter(ge=1, le=3660, description="the last N days up to today")]

CATEGORY = {
    "tea": ("Chè", "Tea"),
    "longan": ("Nhãn", "Longan"),
    "pomelo": ("Bưởi", "Pomelo"),
    "custard_apple": ("Na", "Custard apple"),
    "cinnamon": ("Quế", "Cinnamon"),
    "other": ("Khác", "Other"),
}
T: dict[str, dict[str, str]] = {
    "vi": {
        "other": "English",
        "producer": "Ai quét mã sản phẩm của tôi",
        "sites": "Thống kê di tích",
        "province": "Tổng quan toàn tỉnh",
        "days": "{n} ngày",
        "scans": "Lượt quét",
        "scans_per": "Lượt quét mỗi {b}",
        "by_product": "Theo sản phẩm",
        "by_batch": "Theo lô hàng",
        "by_commune": "Theo xã/phường của cơ sở sản xuất",
        "by_phone_commune": "Theo xã/phường nơi quét (ước tính)",
        "phone_commune_note": "Ước tính: xã/phường có tâm gần nhất với vị trí (làm tròn khoảng 1 km) mà điện thoại "
        "gửi khi quét, vì các xã/phường mới từ 2025 chưa công bố ranh giới. Lượt quét không gửi vị trí, ở xa mọi "
        "xã/phường của tỉnh hoặc trước khi có cách đếm này được tính vào “Không rõ”.",
        "first_map": "Bản đồ nơi sản phẩm được quét lần đầu",
        "first_map_note": "Mỗi vòng tròn là một xã/phường nơi sản phẩm có tem riêng (mã từng sản phẩm) được quét "
        "lần đầu trong khoảng này, vòng càng lớn càng nhiều sản phẩm; vòng đặt ở tâm xã/phường, không phải nơi "
        "quét. Chấm mờ: tâm của 92 xã/phường trong tỉnh.",
        "first_scans": "Sản phẩm",
        "commune": "Xã/phường",
        "by_category": "Theo loại sản phẩm OCOP",
        "plays": "Lượt nghe thuyết minh",
        "plays_per": "Lượt nghe mỗi {b}",
        "by_point": "Theo điểm thuyết minh",
        "by_lang": "Theo ngôn ngữ",
        "by_site": "Lượt nghe theo di tích",
        "downloads": "Lượt tải gói ngoại tuyến",
        "downloads_per": "Lượt tải mỗi {b}",
        "name": "Tên",
        "count": "Số lượt",
        "none": "Chưa có số liệu trong khoảng này.",
        "day": "ngày",
        "week": "tuần",
        "month": "tháng",
        "range": "{since} – {until}",
        "note": "Chỉ đếm, không lưu thông tin người quét hay khách tham quan. “Xã/phường nơi quét” là ước tính "
        "theo tâm xã/phường gần nhất; các mục xã/phường khác là của cơ sở sản xuất.",
        "csv": "Tải CSV",
    },
    "en": {
        "other": "Tiếng Việt",
        "producer": "Who scans my products",
        "sites": "Site statistics",
        "province": "Province overview",
        "days": "{n} days",
        "scans": "Scans",
        "scans_per": "Scans per {b}",
        "by_product": "By product",
        "by_batch": "By batch",
        "by_commune": "By the producer's commune",
        "by_phone_commune": "By commune of the scanning phone (estimated)",
        "phone_commune_note": "Estimated: the commune or ward whose centre is nearest the position (rounded to about "
        "1 km) the phone sent with the scan, because the 2025 communes were published without boundaries. Scans "
        "without a position, far from every commune of the province, or from before this count began are "
        "“Unknown”.",
        "first_map": "Where products were first scanned",
        "first_map_note": "Each circle is a commune or ward where individually labelled products were first scanned "
        "in this range; the larger the circle, the more products. Circles sit at the commune's centre, not where "
        "anyone scanned. Faint dots: the centres of the province's 92 communes and wards.",
        "first_scans": "Products",
        "commune": "Commune or ward",
        "by_category": "By OCOP product category",
        "plays": "Guide plays",
        "plays_per": "Plays per {b}",
        "by_point": "By narrated point",
        "by_lang": "By language",
        "by_site": "Plays per site",
        "downloads": "Offline pack downloads",
        "downloads_per": "Downloads per {b}",
        "name": "Name",
        "count": "Count",
        "none": "No numbers in this range yet.",
        "day": "day",
        "week": "week",
        "month": "month",
        "range": "{since} – {until}",
        "note": "Counts only: nothing about who scanned or visited is stored. The scanning phone's commune is "
        "estimated by the nearest commune centre; every other commune shown is the producer's.",
        "csv": "Download CSV",
    },
}


def _bucket_for(days: int) -> Bucket:
    return "day" if days <= 45 else "week" if days <= 200 else "month"


def _window(days: int) -> tuple[date, date]:
    until = clock.today()
    return until - timedelta(days=days - 1), until


def _series(since: date, until: date, bucket: Bucket, values: Counter[date]) -> list[tuple[str, int]]:
    """Every period of the range in order, zero where nothing was counted (a gap is a zero, not a skip)."""
    out: list[tuple[str, int]] = []
    if bucket == "day":
        day = since
    elif bucket == "week":
        day = since - timedelta(days=since.weekday())
    else:
        day = since.replace(day=1)
    while day <= until:
        out.append((day.isoformat(), values.get(day, 0)))
        if bucket == "day":
            day += timedelta(days=1)
        elif bucket == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def _header(t: dict[str, str], title: str, path: str, days: int, lang: str, since: date, until: date) -> str:
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{path}?days={n}&amp;lang={lang}"{current if n == days else ""}>{e(t["days"].format(n=n))}</a>'
        for n in RANGES
    )
    return (
        f'<h1>{e(title)}</h1><p class="muted">{e(t["range"].format(since=since, until=until))}</p>'
        f'<nav class="ranges" aria-label="{e(title)}">{links}</nav>'
    )


def _section(heading: str, total: int | None, chart: str, tab: str, empty: str) -> str:
    total_html = f'<p class="total">{total}</p>' if total is not None else ""
    inner = f"{chart}{tab}" if chart else f'<p class="muted">{e(empty)}</p>'
    return f"<section><h2>{e(heading)}</h2>{total_html}{inner}</section>"


def _breakdown(
    t: dict[str, str], key: str, rows: list[tuple[str, int]], total: int | None = None, shown: int | None = None
) -> str:
    """One "by …" section: a bar chart of the rows and the same numbers as a table (the first `shown` rows)."""
    heading = t[key]
    tab = table(heading, [t["name"], t["count"]], rows[:shown])
    return _section(heading, total, bar_chart(heading, rows), tab, t["none"])


def _per_period(pairs: Iterable[tuple[date, int]]) -> Counter[date]:
    summed: Counter[date] = Counter()
    for period, value in pairs:
        summed[period] += value
    return summed


def _totals(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    summed: Counter[str] = Counter()
    for label, value in pairs:
        summed[label] += value
    return sorted(summed.items(), key=lambda item: (-item[1], item[0]))


def _totals_by_key(rows: list[ScanRow]) -> list[tuple[str, int]]:
    """Summed per key (two products may share a name in one language), labelled by the key's name."""
    summed: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for row in rows:
        summed[row.key] += row.scans
        labels[row.key] = row.label or "—"
    return sorted(((labels[k], v) for k, v in summed.items()), key=lambda item: (-item[1], item[0]))


def _phone_communes(t: dict[str, str], rows: list[tuple[str, int]]) -> str:
    """Scans by the scanning phone's commune, with a plain statement that the commune is an estimate."""
    heading = t["by_phone_commune"]
    chart = bar_chart(heading, rows)
    inner = (
        f"{chart}{table(heading, [t['commune'], t['count']], rows)}"
        if chart
        else f'<p class="muted">{e(t["none"])}</p>'
    )
    return f'<section><h2>{e(heading)}</h2><p class="muted">{e(t["phone_commune_note"])}</p>{inner}</section>'


def _first_scan_map(t: dict[str, str], counts: list[traceability.CommuneCount]) -> str:
    """The province's commune centres with a circle per commune of first scans, and the same numbers as a table."""
    heading = t["first_map"]
    centres = {c.code: c for c in traceability.commune_centres()}
    marks = [(centres[c.key].lat, centres[c.key].lon, c.count, c.label) for c in counts if c.key in centres]
    drawn = commune_map(heading, [(c.lat, c.lon) for c in centres.values()], marks)
    rows = [(c.label, c.count) for c in counts]
    inner = (
        f"{drawn}{table(heading, [t['commune'], t['first_scans']], rows)}"
        if rows
        else f'<p class="muted">{e(t["none"])}</p>'
    )
    return (
        f'<section><h2>{e(heading)}</h2><p class="muted">{e(t["first_map_note"])}</p>'
        f'<p class="total">{sum(c.count for c in counts)}</p>{inner}</section>'
    )


def _page(lang: str, title: str, body: str, t: dict[str, str], signed_in: SignedIn) -> Response[str]:
    footer = f"<footer>{e(t['note'])}</footer>"
    body = account_bar(signed_in, lang) + body + footer
    return html_response(
        html_document(lang=lang, title=title, css=CSS, body=body, other_lang_label=t["other"]),
        lang=lang,
        css=CSS,
        forms=True,  # the sign-out button
        headers=SIGNED_IN_PAGE_HEADERS,
    )


class StatisticsPagesController(Controller):
    path = "/stats"
    tags = ["statistics"]
    include_in_schema = False
    # signed in with a bearer token or the browser's session cookie; a signed-out browser goes to /sign-in
    dependencies = PAGE_SIGN_IN
    exception_handlers = PAGE_EXCEPTION_HANDLERS
    opt = PAGE_OPT

    @get("/producer", operation_id="statistics_producer_page", media_type="text/html")
    async def producer(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        current_user: CurrentUserDep,
        signed_in: SignedInDep,
        days: Days = 30,
    ) -> Response[str]:
        """Scans of the caller's own products per period, by product, batch and commune."""
        lang = page_language(request)
        t = T[lang]
        since, until = _window(days)
        bucket = _bucket_for(days)
        common: dict[str, Any] = {"since": since, "until": until, "bucket": bucket, "lang": lang}
        by_product = await scan_stats(db, current_user, by="product", **common)
        by_batch = await scan_stats(db, current_user, by="batch", **common)
        by_commune = await scan_stats(db, current_user, by="commune", **common)
        by_phone = await scan_stats(db, current_user, by="phone_commune", **common)
        first_scans = await first_scan_communes(db, current_user, since=since, until=until, lang=lang)
        per_period = _per_period((row.period, row.scans) for row in by_product.rows)
        products = _totals_by_key(by_product.rows)
        batches = _totals_by_key(by_batch.rows)
        communes = _totals_by_key(by_commune.rows)
        b = t[bucket]
        body = _header(t, t["producer"], "/stats/producer", days, lang, since, until)
        body += _section(
            t["scans"],
            by_product.total,
            column_chart(t["scans_per"].format(b=b), _series(since, until, bucket, per_period)) if products else "",
            "",
            t["none"],
        )
        body += _breakdown(t, "by_product", products)
        body += _breakdown(t, "by_batch", batches)
        body += _breakdown(t, "by_commune", communes)
        body += _phone_communes(t, _totals_by_key(by_phone.rows))
        body += _first_scan_map(t, first_scans)
        return _page(lang, t["producer"], body, t, signed_in)

    @get("/sites", operation_id="statistics_sites_page", media_type="text/html")
    async def sites(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        current_user: CurrentUserDep,
        signed_in: SignedInDep,
        days: Days = 30,
    ) -> Response[str]:
        """Guide plays per period, point and language, and offline downloads, of the caller's sites."""
        lang = page_language(request)
        t = T[lang]
        since, until = _window(days)
        bucket = _bucket_for(days)
        plays = await play_stats(db, current_user, since=since, until=until, bucket=bucket, lang=lang)
        downloads = await download_stats(db, current_user, since=since, until=until, bucket=bucket)
        per_period = _per_period((row.period, row.plays) for row in plays.rows)
        down_period = _per_period((row.period, row.downloads) for row in downloads.rows)
        points = _totals([(f"{plays.site_names.get(r.site, r.site)} / {r.point}", r.plays) for r in plays.rows])
        langs = _totals([(LANGUAGE_NAMES.get(r.lang, r.lang), r.plays) for r in plays.rows])
        b = t[bucket]
        body = _header(t, t["sites"], "/stats/sites", days, lang, since, until)
        body += _section(
            t["plays"],
            plays.total,
            column_chart(t["plays_per"].format(b=b), _series(since, until, bucket, per_period)) if points else "",
            "",
            t["none"],
        )
        body += _breakdown(t, "by_point", points)
        body += _breakdown(t, "by_lang", langs)
        body += _section(
            t["downloads"],
            downloads.total,
            column_chart(t["downloads_per"].format(b=b), _series(since, until, bucket, down_period))
            if downloads.rows
            else "",
            "",
            t["none"],
        )
        return _page(lang, t["sites"], body, t, signed_in)

    @get("/province", operation_id="statistics_province_page", media_type="text/html")
    async def province(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        current_user: CurrentUserDep,
        signed_in: SignedInDep,
        days: Days = 365,
    ) -> Response[str]:
        """Scans per OCOP category and commune across the province, and plays per site (officials only)."""
        if current_user.role not in PROVINCE_ROLES:
            raise Forbidden("the province overview is for inspectors and officials", code="statistics_forbidden")
        lang = page_language(request)
        t = T[lang]
        since, until = _window(days)
        bucket = _bucket_for(days)
        body = await province_body(db, current_user, t, lang, days, since, until, bucket)
        return _page(lang, t["province"], body, t, signed_in)


async def province_body(
    db: Any, user: Any, t: dict[str, str], lang: str, days: int, since: date, until: date, bucket: Bucket
) -> str:
    """The province overview's content: three reads of the rollups (category, commune, plays per site)."""
    common: dict[str, Any] = {"since": since, "until": until, "bucket": bucket, "lang": lang}
    by_category = await scan_stats(db, user, by="category", **common)
    by_commune = await scan_stats(db, user, by="commune", **common)
    plays = await play_stats(db, user, since=since, until=until, bucket=bucket, lang=lang)
    per_period = _per_period((row.period, row.scans) for row in by_category.rows)
    idx = 0 if lang == "vi" else 1
    categories = _totals([(CATEGORY.get(r.key, (r.key, r.key))[idx], r.scans) for r in by_category.rows])
    communes = _totals([(r.label or "—", r.scans) for r in by_commune.rows])
    sites = _totals([(plays.site_names.get(r.site, r.site), r.plays) for r in plays.rows])
    b = t[bucket]
    body = _header(t, t["province"], "/stats/province", days, lang, since, until)
    body += _section(
        t["scans"],
        by_category.total,
        column_chart(t["scans_per"].format(b=b), _series(since, until, bucket, per_period)) if categories else "",
        "",
        t["none"],
    )
    body += _breakdown(t, "by_category", categories)
    body += _breakdown(t, "by_commune", communes, shown=30)
    body += _breakdown(t, "by_site", sites, total=plays.total)
    return body
