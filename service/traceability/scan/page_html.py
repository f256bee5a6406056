"""The shopper page as plain string building: every user field through html.escape, no JavaScript.

The batch part is rendered once per (version, language) and cached; the unit part (genuine or
suspicious, scan count) is cheap and goes into two markers on every view. User text is escaped, so
it can never contain a marker.
"""

import base64
import hashlib
import html
from datetime import date, datetime
from typing import Any

import msgspec

from service.core import clock
from service.traceability.scan.page_data import NotRegistered, PageData, UnitInfo

UNIT_TOP = "<!--unit-top-->"
UNIT_INFO = "<!--unit-info-->"

CSS = (
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;background:#f6f7f4}"
    "main{max-width:40rem;margin:0 auto;padding:0 1rem 2rem}h1{font-size:1.5rem;margin:.5rem 0}"
    "h2{font-size:1.1rem;margin:1.5rem 0 .5rem}img{max-width:100%;height:auto;border-radius:.5rem}"
    ".alert{padding:1rem;margin:0 -1rem 1rem;font-weight:600}.recall{background:#b00020;color:#fff}"
    ".notice{background:#fff4ce;color:#3d2e00}"
    ".fake{background:#ffb300;color:#1b1b1b}.ok{color:#1e6b35}.badge{display:inline-block;padding:0 .5rem;"
    "border-radius:1rem;background:#1e6b35;color:#fff;font-size:.85rem}.stars{color:#c77c02}"
    "ol,ul{padding-left:1.2rem}li{margin:.3rem 0}.muted{color:#5c5c5c;font-size:.9rem}"
    "a{color:#0b5cad}dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem 1rem}dt{color:#5c5c5c}dd{margin:0}"
    "footer{margin-top:2rem;font-size:.85rem;color:#5c5c5c}"
)
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{CSS_HASH}'; img-src 'self' https: data:; "
    "script-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "recall": "THU HỒI: lô hàng này đã bị thu hồi. Xin đừng sử dụng sản phẩm.",
        "unknown_lot": "Lô “{lot}” không có trong hồ sơ của nhà sản xuất.",
        "unknown_serial": "Mã “{serial}” không có trong hồ sơ của nhà sản xuất.",
        "unknown_hint": "Dưới đây là thông tin chung về sản phẩm; nếu nghi ngờ, hãy hỏi nơi bán hoặc nhà sản xuất.",
        "fake": (
            "CẢNH BÁO: mã này bị quét bất thường và có thể là hàng giả. Hãy hỏi người bán hoặc báo cơ quan chức năng."
        ),
        "genuine": "Mã sản phẩm hợp lệ.",
        "first_scan": "Quét lần đầu",
        "scans": "Số lần quét",
        "never": "đây là lần quét đầu tiên",
        "producer": "Nhà sản xuất",
        "verified": "✓ Đã xác minh",
        "map": "Xem bản đồ",
        "details": "Thông tin lô hàng",
        "lot": "Lô",
        "harvest": "Thu hoạch",
        "expiry": "Hạn sử dụng",
        "expired": "đã hết hạn",
        "origin": "Vùng trồng",
        "certs": "Chứng nhận",
        "valid_to": "hiệu lực đến",
        "no_end": "không thời hạn",
        "lapsed": "đã hết hiệu lực",
        "timeline": "Hành trình",
        "buy": "Nơi bán",
        "nearby": "Di tích gần vùng trồng",
        "ocop": "OCOP {n} sao",
        "other_lang": "English",
    },
    "en": {
        "recall": "RECALLED: this batch has been recalled. Please do not use the product.",
        "unknown_lot": "Lot “{lot}” is not in the producer's records.",
        "unknown_serial": "Serial “{serial}” is not in the producer's records.",
        "unknown_hint": "Below is the product's general information; if in doubt, ask the shop or the producer.",
        "fake": "WARNING: this code has been scanned suspiciously and may be counterfeit. Ask the seller or report it.",
        "genuine": "This code is genuine.",
        "first_scan": "First scanned",
        "scans": "Scans",
        "never": "this is the first scan",
        "producer": "Producer",
        "verified": "✓ Verified",
        "map": "Open map",
        "details": "About this batch",
        "lot": "Lot",
        "harvest": "Harvested",
        "expiry": "Best before",
        "expired": "expired",
        "origin": "Grown in",
        "certs": "Certifications",
        "valid_to": "valid until",
        "no_end": "no end date",
        "lapsed": "lapsed",
        "timeline": "Journey",
        "buy": "Where to buy",
        "nearby": "Heritage sites nearby",
        "ocop": "OCOP {n} stars",
        "other_lang": "Tiếng Việt",
    },
}
STEPS: dict[str, tuple[str, str]] = {
    "commissioning": ("Thu hoạch, tạo lô", "Harvested, lot created"),
    "packing": ("Đóng gói", "Packed"),
    "inspecting": ("Kiểm tra chất lượng", "Quality inspected"),
    "storing": ("Lưu kho", "Stored"),
    "shipping": ("Xuất hàng", "Shipped"),
    "receiving": ("Nhận hàng", "Received"),
    "retail_selling": ("Bày bán tại cửa hàng", "On sale in a shop"),
    "transporting": ("Vận chuyển", "Transported"),
    "destroying": ("Tiêu hủy", "Destroyed"),
    "sampling": ("Lấy mẫu", "Sampled"),
}
CERT_KINDS = {
    "vietgap": ("VietGAP", "VietGAP"),
    "organic": ("Hữu cơ", "Organic"),
    "ocop": ("OCOP", "OCOP"),
    "geographic_indication": ("Chỉ dẫn địa lý", "Geographical indication"),
    "other": ("Chứng nhận khác", "Other certification"),
}

e = html.escape


def _day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(clock.VN_TZ).date()
    return value.strftime("%d/%m/%Y")


def step_words(event_type: str, biz_step: str, disposition: str | None, lang: str) -> str:
    i = 1 if lang == "en" else 0
    if disposition == "recalled":
        return ("Thu hồi", "Recalled")[i]
    if event_type == "TransformationEvent":
        return ("Chế biến", "Processed")[i]
    name = biz_step.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return STEPS[name][i] if name in STEPS else name.replace("_", " ").capitalize()


def json_ld(data: PageData, page_url: str, lang: str) -> str:
    """schema.org Product; '<', '>' and '&' escaped as \\uXXXX so no string can close the script element."""
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": data.product_names.get(lang) or data.product_names["vi"],
        "url": page_url,
        "manufacturer": {"@type": "Organization", "name": data.producer.name},
    }
    if data.gtin14:
        doc["gtin14"] = data.gtin14
    if data.photos:
        doc["image"] = data.photos[0]
    if data.lot:
        doc["productID"] = data.lot
    encoded = msgspec.json.encode(doc).decode()
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _not_registered(asked: NotRegistered, t: dict[str, str]) -> str:
    """Plain words, not a verdict: the code is not in the producer's records; it does not say the pack is fake."""
    parts = []
    if asked.lot is not None:
        parts.append(t["unknown_lot"].format(lot=e(asked.lot)))
    if asked.serial is not None:
        parts.append(t["unknown_serial"].format(serial=e(asked.serial)))
    return f'<div class="alert notice" role="status" id="chua-dang-ky">{" ".join(parts)} {e(t["unknown_hint"])}</div>'


def render_page(data: PageData, *, lang: str, page_url: str, today: date) -> str:
    """The cached part of the page, with markers where the unit's status goes."""
    t = TEXT[lang]
    i = 1 if lang == "en" else 0
    name = data.product_names.get(lang) or data.product_names["vi"]
    out: list[str] = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(name)}</title><style>{CSS}</style>"
        f'<script type="application/ld+json">{json_ld(data, page_url, lang)}</script></head><body><main>'
    ]
    if data.status == "recalled":
        reason = f"<br>{e(data.recall_reason)}" if data.recall_reason else ""
        out.append(f'<div class="alert recall" role="alert" id="recall">{e(t["recall"])}{reason}</div>')
    if data.not_registered is not None:
        out.append(_not_registered(data.not_registered, t))
    out.append(UNIT_TOP)
    if data.photos:
        out.append(
            f'<img src="{e(data.photos[0])}" srcset="{e(data.photos[0])} 800w" '
            'sizes="(max-width: 40rem) 100vw, 40rem" width="800" height="600" loading="lazy" decoding="async" alt="">'
        )
    out.append(f"<h1>{e(name)}</h1>")
    if data.ocop_stars:
        stars = "★" * data.ocop_stars + "☆" * (5 - data.ocop_stars)
        label = t["ocop"].format(n=data.ocop_stars)
        out.append(f'<p><span class="stars" aria-hidden="true">{stars}</span> {label}</p>')
    description = data.product_descriptions.get(lang) or data.product_descriptions.get("vi")
    if description:
        out.append(f"<p>{e(description)}</p>")
    out.append(UNIT_INFO)
    p = data.producer
    badge = f' <span class="badge">{t["verified"]}</span>' if p.verified else ""
    out.append(f"<h2>{t['producer']}</h2><p><strong>{e(p.name)}</strong>{badge}<br>")
    out.append(f"{e(p.commune_name)}, {e(p.province_name)}")
    if p.lat is not None and p.lon is not None:
        out.append(
            f' · <a href="https://www.openstreetmap.org/?mlat={p.lat:.5f}&amp;mlon={p.lon:.5f}'
            f'#map=15/{p.lat:.5f}/{p.lon:.5f}">{t["map"]}</a>'
        )
    out.append("</p>")
    if data.lot is not None:
        rows = [(t["lot"], e(data.lot))]
        if data.origin_commune:
            rows.append((t["origin"], e(data.origin_commune)))
        if data.harvest_date:
            harvest = _day(data.harvest_date) + (f" – {_day(data.harvest_end)}" if data.harvest_end else "")
            rows.append((t["harvest"], harvest))
        if data.expiry_date:
            lapsed = f" ({t['expired']})" if data.expiry_date < today else ""
            rows.append((t["expiry"], _day(data.expiry_date) + lapsed))
        out.append(f"<h2>{t['details']}</h2><dl>")
        out.extend(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        out.append("</dl>")
    if data.certifications:
        out.append(f'<h2 id="chung-nhan">{t["certs"]}</h2><ul>')
        for c in data.certifications:
            kind = CERT_KINDS.get(c.kind, CERT_KINDS["other"])[i]
            if c.stars:
                kind += " " + "★" * c.stars
            if c.valid_to is None:
                validity = t["no_end"]
            elif c.valid_to < today:
                validity = f"{t['lapsed']} ({_day(c.valid_to)})"
            else:
                validity = f"{t['valid_to']} {_day(c.valid_to)}"
            out.append(f"<li><strong>{kind}</strong> – {e(c.issuer)}, {e(c.number)}, {validity}</li>")
        out.append("</ul>")
    if data.events:
        out.append(f"<h2>{t['timeline']}</h2><ol>")
        for ev in data.events:
            place = f" – {e(ev.place)}" if ev.place else ""
            words = step_words(ev.event_type, ev.biz_step, ev.disposition, lang)
            out.append(f'<li><span class="muted">{_day(ev.event_time)}</span> {e(words)}{place}</li>')
        out.append("</ol>")
    if data.where_to_buy:
        out.append(f"<h2>{t['buy']}</h2><ul>")
        out.extend(f"<li>{e(shop)}</li>" for shop in data.where_to_buy)
        out.append("</ul>")
    if data.nearby:
        out.append(f"<h2>{t['nearby']}</h2><ul>")
        for site in data.nearby:
            km = f' <span class="muted">{site.distance_km:.1f} km</span>' if site.distance_km is not None else ""
            out.append(f'<li><a href="{e(site.url)}">{e(site.name)}</a>{km}</li>')
        out.append("</ul>")
    other = "en" if lang == "vi" else "vi"
    ident = f"{t['lot']} {e(data.lot)} · " if data.lot else ""
    out.append(
        f'<footer>{ident}GTIN {e(data.gtin14 or "–")} · <a href="?lang={other}" hreflang="{other}">'
        f"{TEXT[lang]['other_lang']}</a></footer></main></body></html>"
    )
    return "".join(out)


def unit_fragments(unit: UnitInfo | None, lang: str) -> tuple[str, str]:
    """(warning at the top, status line) for a unit page; empty for a batch page."""
    if unit is None:
        return "", ""
    t = TEXT[lang]
    top = f'<div class="alert fake" role="alert" id="counterfeit">{e(t["fake"])}</div>' if unit.flagged else ""
    first = _day(unit.first_scanned_at) if unit.first_scanned_at else t["never"]
    status = "" if unit.flagged else f'<p class="ok"><strong>{t["genuine"]}</strong></p>'
    info = f'{status}<p class="muted">{t["first_scan"]}: {first} · {t["scans"]}: {unit.scan_count}</p>'
    return top, info


def fill_unit(page: str, unit: UnitInfo | None, lang: str) -> str:
    top, info = unit_fragments(unit, lang)
    return page.replace(UNIT_TOP, top, 1).replace(UNIT_INFO, info, 1)
