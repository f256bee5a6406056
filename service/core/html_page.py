"""What every human page shares, whichever domain renders it: language choice, content negotiation, the
look, and a strict Content-Security-Policy (no script but same-origin files where a page asks for them, none
inline; styles allowed by hash only).

Pages are plain string building: every user field goes through html.escape (`e`).
"""

import base64
import functools
import hashlib
import html
from typing import Any

from litestar import Request, Response

HTML_TYPE = "text/html"  # Litestar adds "; charset=utf-8" itself: saying it here too repeats it
e = html.escape

# The base look of every page: readable at 360 px, no sideways scroll (long words wrap).
BASE_CSS = (
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1b1b1b;background:#f6f7f4}"
    "main{max-width:40rem;margin:0 auto;padding:0 1rem 2rem;overflow-wrap:anywhere}"
    "h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}"
    "h3{font-size:1rem;margin:.8rem 0 .3rem}"
    "img{max-width:100%;height:auto;border-radius:.5rem}ol,ul{padding-left:1.2rem;margin:.3rem 0}li{margin:.3rem 0}"
    ".muted{color:#5c5c5c;font-size:.9rem}a{color:#0b5cad}"
    "section{margin:1rem 0;padding:.2rem .8rem .5rem;border-radius:.4rem;background:#fff}"
    "footer{margin-top:2rem;font-size:.85rem;color:#5c5c5c}"
    "nav.lang{text-align:right;font-size:.9rem;padding-top:.5rem}"
)


def css_hash(css: str) -> str:
    return base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


def content_security_policy(css: str, *, media: bool = False, script: bool = False, forms: bool = False) -> str:
    """The one style block by hash, images from here or https; audio and captions from here; no script, or
    (`script`) only script files from this origin, never inline; forms (`forms`) post only to this origin."""
    media_src = "; media-src 'self'" if media else ""
    script_src = "'self'" if script else "'none'"
    form_action = "'self'" if forms else "'none'"
    return (
        f"default-src 'none'; style-src 'sha256-{css_hash(css)}'; img-src 'self' https: data:{media_src}; "
        f"script-src {script_src}; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )


def page_language(request: Request[Any, Any, Any]) -> str:
    """?lang=en|vi wins; else the first of vi/en in Accept-Language by weight; Vietnamese by default."""
    asked = request.query_params.get("lang")
    if asked == "vi" or asked == "en":
        return str(asked)
    header = request.headers.get("accept-language", "")
    # phones send a handful of distinct headers: each is read once per worker (long odd ones are not kept)
    return _remembered_language(header) if len(header) <= 128 else _preferred_language(header)


def _preferred_language(accept_language: str) -> str:
    best, best_q = "vi", -1.0
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if primary in ("vi", "en") and q > best_q:
            best, best_q = primary, q
    return best


_remembered_language = functools.lru_cache(maxsize=512)(_preferred_language)


def wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return request.query_params.get("format") == "json" or ("application/json" in accept and "text/html" not in accept)


def html_document(
    *, lang: str, title: str, css: str, body: str, other_lang_label: str, head: str = "", other_lang_query: str = ""
) -> str:
    """A whole page: the language switch first (a plain link, works without JavaScript), then the body.

    `other_lang_query` is more of the query the switch keeps ("&next=..."), already URL-encoded.
    """
    other = "en" if lang == "vi" else "vi"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        # no icon to fetch: browsers would otherwise ask for /favicon.ico on every first visit
        '<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">'
        f"<title>{e(title)}</title><style>{css}</style>{head}</head><body><main>"
        f'<nav class="lang" aria-label="Ngôn ngữ / Language">'
        f'<a href="?lang={other}{e(other_lang_query)}" hreflang="{other}" lang="{other}">{other_lang_label}</a></nav>'
        f"{body}</main></body></html>"
    )


def html_response(
    page: str,
    *,
    lang: str,
    css: str,
    media: bool = False,
    script: bool = False,
    forms: bool = False,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    return Response(
        page,
        status_code=status_code,
        media_type=HTML_TYPE,
        headers={
            "Content-Security-Policy": content_security_policy(css, media=media, script=script, forms=forms),
            "Content-Language": lang,
            "Vary": "Accept, Accept-Language",
            "Cache-Control": "no-cache",
            **(headers or {}),  # e.g. "no-store" for a page with what a person typed
        },
    )
