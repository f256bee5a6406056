"""The shopper page as plain string building: every user field through html.escape, no JavaScript.

Every claim says who made it, and looks like it: declared by the producer (dashed grey), verified by an
inspector for a named authority (solid green, with the date), derived by the system (blue). The batch
part is rendered once per (version, language) and cached; the unit part (scan counts, a counterfeit
banner once an inspector confirmed one) is cheap and goes into two markers on every view. User text is
escaped, so it can never contain a marker.
"""

import base64
import hashlib
import html
from datetime import date, datetime
from typing import Any

import msgspec

from service.core import clock
from service.media.pictures import img_html
from service.traceability.batches.vocab import is_official, step_label
from service.traceability.scan.page_data import (
    Certification,
    Claim,
    NotRegistered,
    PageData,
    PlaceName,
    TimelineEvent,
    UnitInfo,
)
from service.traceability.scan.page_text import CERT_KINDS, TEXT

# Steps whose plain words already say "in a shop": with a named place they read "On sale at {place}".
AT_FORMS = {"retail_selling": ("Bày bán tại", "On sale at")}

UNIT_TOP = "<!--unit-top-->"
UNIT_INFO = "<!--unit-info-->"

CSS = (
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;background:#f6f7f4}"
    "main{max-width:40rem;margin:0 auto;padding:0 1rem 2rem}h1{font-size:1.5rem;margin:.5rem 0}"
    "h2{font-size:1.1rem;margin:1.2rem 0 .4rem}h3{font-size:1rem;margin:.8rem 0 .3rem}"
    "img{max-width:100%;height:auto;border-radius:.5rem}"
    ".alert{padding:1rem;margin:0 -1rem 1rem;font-weight:600}.recall,.fake{background:#b00020;color:#fff}"
    ".stale{background:#fff4d6;color:#5b4200;font-weight:400}"
    ".notice{background:#fff4ce;color:#3d2e00}"
    ".stars{color:#c77c02}ol,ul{padding-left:1.2rem;margin:.3rem 0}li{margin:.3rem 0;overflow-wrap:anywhere}"
    ".muted{color:#5c5c5c;font-size:.9rem}a{color:#0b5cad}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem 1rem;margin:.3rem 0}dt{color:#5c5c5c}dd{margin:0}"
    ".tag{display:inline-block;font-size:.78rem;line-height:1.3;padding:.05rem .4rem;border-radius:.3rem;"
    "margin:0 .2rem;vertical-align:middle}.td{border:1px dashed #6b6b6b;color:#4a4a4a;background:#fff}"
    ".tv{background:#1e6b35;color:#fff;font-weight:600}.ts{background:#dbe8f7;color:#0b3f78}"
    "section{margin:1rem 0;padding:.2rem .8rem .5rem;border-radius:.4rem;background:#fff}"
    "section.v{border-left:5px solid #1e6b35}section.d{border-left:5px dashed #8a8a8a}"
    "section.s{border-left:5px solid #0b5cad}.legend{list-style:none;padding:0;font-size:.85rem}"
    ".unit{margin:.5rem 0}footer{margin-top:2rem;font-size:.85rem;color:#5c5c5c}"
    ".gallery{list-style:none;padding:0;display:grid;grid-template-columns:1fr 1fr;gap:.5rem}.gallery li{margin:0}"
)
# two photos side by side below 42rem, else two of a 40rem column
GALLERY_SIZES = "(max-width: 42rem) calc(50vw - 1.25rem), 19.75rem"
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{CSS_HASH}'; img-src 'self' https: data:; "
    "script-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

e = html.escape


def _day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(clock.VN_TZ).date()
    return value.strftime("%d/%m/%Y")


def _time(value: datetime) -> str:
    return value.astimezone(clock.VN_TZ).strftime("%H:%M")


def claim_tag(claim: Claim | None, lang: str, *, awaiting: bool = False) -> str:
    """The small label saying who made a claim: the same look everywhere on the page."""
    t = TEXT[lang]
    if claim is None or claim.kind == "declared":
        return f'<span class="tag td">{t["awaiting" if awaiting else "declared"]}</span>'
    if claim.kind == "derived":
        return f'<span class="tag ts">{t["derived"]}</span>'
    at = _day(claim.at) if claim.at else ""
    words = t["verified_by"].format(by=e(claim.by), at=at) if claim.by else t["verified_unnamed"].format(at=at)
    return f'<span class="tag tv">{words}</span>'


def step_words(event_type: str, biz_step: str, disposition: str | None, lang: str) -> str:
    return step_label(event_type, biz_step, disposition, lang)


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


def certificate_item(c: Certification, lang: str, today: date) -> str:
    t = TEXT[lang]
    i = 1 if lang == "en" else 0
    kind = CERT_KINDS.get(c.kind, CERT_KINDS["other"])[i]
    if c.stars:
        kind += " " + "★" * c.stars
    if c.valid_to is None:
        validity = t["no_end"]
    elif c.status == "expired" or c.valid_to < today:
        validity = f"<strong>{t['lapsed']}</strong> ({_day(c.valid_to)})"
    else:
        validity = f"{t['valid_to']} {_day(c.valid_to)}"
    tag = claim_tag(c.claim, lang, awaiting=c.claim.kind == "declared")
    return f"<li><strong>{kind}</strong> – {e(c.issuer)}, {e(c.number)}, {validity} {tag}</li>"


def _place(place: PlaceName, lang: str) -> str:
    commune = f' <span class="muted">({e(place.commune_name)})</span>' if place.commune_name else ""
    return f"{e(place.name(lang))}{commune}"


def _event(ev: TimelineEvent, lang: str, tag: str = "") -> str:
    """ "Đóng gói tại Xưởng chè HTX Tân Cương": the step, then where, in words (never a URI)."""
    words = e(step_words(ev.event_type, ev.biz_step, ev.disposition, lang))
    if ev.place is not None:
        at_form = AT_FORMS.get(ev.biz_step.rsplit(":", 1)[-1])
        lead = at_form[1 if lang == "en" else 0] if at_form else f"{words} {TEXT[lang]['at']}"
        words = f"{lead} <strong>{_place(ev.place, lang)}</strong>"
    return f'<li><span class="muted">{_day(ev.event_time)}</span> {words}{tag}</li>'


def _legend(lang: str) -> str:
    t = TEXT[lang]
    verified = f'<span class="tag tv">{t["verified_unnamed"].format(at="").strip()}</span>'
    return (
        f'<ul class="legend" aria-label="{t["legend"]}">'
        f"<li>{claim_tag(None, lang)} {t['legend_declared']}</li>"
        f"<li>{verified} {t['legend_verified']}</li>"
        f"<li>{claim_tag(Claim(kind='derived', by=None), lang)} {t['legend_derived']}</li></ul>"
    )


def _official_section(data: PageData, lang: str, today: date) -> list[str]:
    t = TEXT[lang]
    p = data.producer
    certs = [c for c in data.certifications if c.claim.kind == "verified"]
    official = [ev for ev in data.events if is_official(ev.biz_step, ev.disposition)]
    if not (p.verification or certs or official):
        return []
    out = [f'<section class="v" id="verified"><h2>{t["official"]}</h2>']
    if p.verification is not None:
        out.append(f"<p>{t['producer_verified']}: <strong>{e(p.name)}</strong> {claim_tag(p.verification, lang)}</p>")
    if certs:
        out.append(f'<h3 id="chung-nhan">{t["certs"]}</h3><ul>')
        out.extend(certificate_item(c, lang, today) for c in certs)
        out.append("</ul>")
    if official:
        out.append(f"<h3>{t['inspections']}</h3><ul>")
        out.extend(_event(ev, lang, " " + claim_tag(ev.claim, lang)) for ev in official)
        out.append("</ul>")
    out.append("</section>")
    return out


def _producer_section(data: PageData, lang: str, today: date) -> list[str]:
    t = TEXT[lang]
    p = data.producer
    out = [f'<section class="d" id="declared"><h2>{t["producer_says"]} {claim_tag(None, lang)}</h2>']
    out.append(
        f'<h3>{t["producer"]}</h3><p><strong><a href="/producers/{p.id}?lang={lang}">{e(p.name)}</a></strong>'
        f"<br>{e(p.commune_name)}, {e(p.province_name)}"
    )
    if p.lat is not None and p.lon is not None:
        approximate = p.kind == "household"
        zoom, digits = (13, 2) if approximate else (15, 5)
        out.append(
            f' · <a href="https://www.openstreetmap.org/?mlat={p.lat:.{digits}f}&amp;mlon={p.lon:.{digits}f}'
            f'#map={zoom}/{p.lat:.{digits}f}/{p.lon:.{digits}f}">{t["map" if approximate else "map_exact"]}</a>'
        )
    out.append("</p>")
    if data.farm_picture is not None:
        out.append(img_html(data.farm_picture, f"{t['photo']}: {p.name}", sizes=GALLERY_SIZES))
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
        out.append(f"<h3>{t['details']}</h3><dl>")
        out.extend(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        out.append("</dl>")
    declared = [c for c in data.certifications if c.claim.kind != "verified"]
    if declared:
        out.append(f'<h3 id="tu-khai">{t["certs"]}</h3><ul>')
        out.extend(certificate_item(c, lang, today) for c in declared)
        out.append("</ul>")
    steps = [ev for ev in data.events if not is_official(ev.biz_step, ev.disposition)]
    if steps:
        out.append(f"<h3>{t['timeline']}</h3><ol>")
        out.extend(_event(ev, lang) for ev in steps)
        out.append("</ol>")
    if data.where_to_buy:
        out.append(f"<h3>{t['buy']}</h3><ul>")
        out.extend(f"<li>{_place(shop, lang)}</li>" for shop in data.where_to_buy)
        out.append("</ul>")
    out.append("</section>")
    return out


def _system_section(data: PageData, lang: str) -> list[str]:
    t = TEXT[lang]
    if data.chain is None:
        return []
    words = t["chain_ok"].format(n=data.chain.events) if data.chain.valid else t["chain_bad"]
    return [
        f'<section class="s" id="derived"><h2>{t["system_says"]} {claim_tag(data.chain.claim, lang)}</h2>'
        f"<p>{words}</p></section>"
    ]


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
    name = data.product_names.get(lang) or data.product_names["vi"]
    out: list[str] = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">'
        f"<title>{e(name)}</title><style>{CSS}</style>"
        f'<script type="application/ld+json">{json_ld(data, page_url, lang)}</script></head><body><main>'
    ]
    if data.status == "recalled":
        recall = next((ev for ev in reversed(data.events) if ev.disposition == "recalled"), None)
        by = f"<br>{t['recall_by'].format(by=e(recall.claim.by))}" if recall and recall.claim.by else ""
        reason = f"<br>{e(data.recall_reason)}" if data.recall_reason else ""
        out.append(f'<div class="alert recall" role="alert" id="recall">{e(t["recall"])}{by}{reason}</div>')
    if data.not_registered is not None:
        out.append(_not_registered(data.not_registered, t))
    out.append(UNIT_TOP)
    if data.pictures:
        out.append(img_html(data.pictures[0], f"{t['photo']}: {name}"))
    out.append(f"<h1>{e(name)}</h1>")
    if data.ocop_stars and data.ocop_claim is not None:
        stars = "★" * data.ocop_stars + "☆" * (5 - data.ocop_stars)
        label = t["ocop"].format(n=data.ocop_stars)
        out.append(
            f'<p id="ocop"><span class="stars" aria-hidden="true">{stars}</span> {label} '
            f"{claim_tag(data.ocop_claim, lang)}</p>"
        )
    description = data.product_descriptions.get(lang) or data.product_descriptions.get("vi")
    if description:
        out.append(f"<p>{e(description)} {claim_tag(None, lang)}</p>")
    if len(data.pictures) > 1:
        out.append(f'<ul class="gallery" aria-label="{t["photos"]}">')
        word = t["photo"]
        out.extend(
            f"<li>{img_html(picture, f'{word} {n}: {name}', sizes=GALLERY_SIZES)}</li>"
            for n, picture in enumerate(data.pictures[1:7], start=2)
        )
        out.append("</ul>")
    out.append(UNIT_INFO)
    out.append(_legend(lang))
    out.extend(_official_section(data, lang, today))
    out.extend(_producer_section(data, lang, today))
    out.extend(_system_section(data, lang))
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
    """(counterfeit banner at the top, scan facts) for a unit page; empty for a batch page.

    Scan counts are facts the system derived; a counterfeit verdict is an inspector's, never the system's.
    """
    if unit is None:
        return "", ""
    t = TEXT[lang]
    top = ""
    if unit.counterfeit is not None:
        at = _day(unit.counterfeit.at) if unit.counterfeit.at else ""
        by = t["fake_by"].format(by=e(unit.counterfeit.by or "—"), at=at)
        top = f'<div class="alert fake" role="alert" id="counterfeit">{e(t["fake"])}<br>{by}</div>'
    if unit.first_scanned_at is not None:
        first = t["first_check"].format(day=_day(unit.first_scanned_at), time=_time(unit.first_scanned_at))
        facts = f"{first}, {t['checks'].format(n=unit.scan_count)}."
    else:
        facts = t["never"]
    info = (
        f'<div class="unit" id="scans"><p>{t["registered"]} {claim_tag(unit.claim, lang)}<br>{facts}</p>'
        f'<p class="muted">{t["scans_note"]}</p></div>'
    )
    return top, info


def stale_note(page: str, as_of: datetime, lang: str) -> str:
    """The page answered from memory while the database is away says when it was last known true."""
    at = as_of.astimezone(clock.VN_TZ).strftime("%H:%M %d/%m/%Y")
    note = f'<p class="alert stale" role="status" id="as-of">{e(TEXT[lang]["stale"].format(at=at))}</p>'
    return page.replace("<main>", "<main>" + note, 1)


def fill_unit(page: str, unit: UnitInfo | None, lang: str) -> str:
    top, info = unit_fragments(unit, lang)
    return page.replace(UNIT_TOP, top, 1).replace(UNIT_INFO, info, 1)
