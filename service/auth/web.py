"""Signed-in human pages in a browser: the session cookie, who is looking at a page, and the checks its forms need.

The cookie holds the same signed token the API issues, so a deactivation, a new role or a new password ends it
at once (sessions.py). Only pages that declare `PAGE_SIGN_IN` read it: the JWT middleware, and so the whole JSON
API, keeps to `Authorization: Bearer`, which a cross-site form can never send; a cookie there would make every
API write forgeable from any other site.
"""

from typing import Any
from urllib.parse import quote, urlsplit

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect

from service.auth.guards import CurrentUserDep, user_from_token
from service.auth.schemas import CurrentUser, Role
from service.auth.service import signed_in_user
from service.core.db import DB
from service.core.errors import Problem, ServiceError, handle_service_error, problem_response
from service.core.html_page import BASE_CSS, e, html_document, html_response, page_language
from service.settings import Settings

SESSION_COOKIE = "tt_session"
SESSION_SECONDS = 12 * 3600  # a working day: an official's office computer is often shared
SIGN_IN_PATH = "/sign-in"
MAX_NEXT_LENGTH = 2000


class SignInRequired(NotAuthorizedException):
    """A page that needs a signed-in person got neither a valid bearer token nor a valid session cookie."""


class SignedIn(msgspec.Struct, frozen=True, kw_only=True):
    """Who is looking at a signed-in page, for its account bar."""

    user: CurrentUser
    full_name: str
    phone: str
    by_cookie: bool  # only a cookie session can be signed out of (a bearer token belongs to an app)


SignedInDep = NamedDependency[SignedIn]

# A signed-in page is one person's: a shared cache must not keep it (a cookie, unlike Authorization, does not stop
# it), and what it shows depends on the cookie.
SIGNED_IN_PAGE_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Accept, Accept-Language, Cookie"}


def safe_next(raw: str | None) -> str | None:
    """A path on this site to go to after signing in, or None: never `//host`, `/\\host`, a scheme or a control
    character, any of which a browser may take to another site (an open redirect hands phishing our address)."""
    if not raw or len(raw) > MAX_NEXT_LENGTH or not raw.startswith("/") or raw.startswith("//"):
        return None
    if "\\" in raw or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in raw):
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return None
    return quote(raw, safe=URL_CHARACTERS)  # "/thống-kê" typed by hand: a Location header is ASCII


URL_CHARACTERS = "/?#[]@!$&'()*+,;=:%-._~"  # RFC 3986 reserved and unreserved ones (and escapes) stay as they are


def home_for(role: Role) -> str:
    """Where a person lands after signing in without a `next`: their own statistics."""
    if role in ("inspector", "admin"):
        return "/stats/province"
    if role == "editor":
        return "/stats/sites"
    return "/stats/producer"


def same_origin(request: Request[Any, Any, Any]) -> bool:
    """Was this POST sent by a page of this site? (the CSRF check of the sign-in and sign-out forms)

    Browsers say where a request comes from in `Sec-Fetch-Site` (every current engine) or, failing that, in
    `Origin` (every engine since 2020 on a cross-origin POST); only same-origin, or a person's own action
    ("none"), passes. A request with neither header was not sent by a browser for another site, so it cannot
    forge anyone's browser (the cookie-less clients that remain just sign in). This needs no token in the form
    nor state on the server, and works on the script-less pages.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":  # sandboxed frames, file: pages, some cross-origin redirects
        return False
    settings: Settings = request.app.state.settings
    netloc = urlsplit(origin).netloc.lower()
    return netloc == request.headers.get("host", "").lower() or netloc == urlsplit(settings.base_url).netloc.lower()


def secure_cookies(request: Request[Any, Any, Any]) -> bool:
    """https here, or behind the trusted proxy (which ends TLS), or production: the cookie never travels in clear."""
    settings: Settings = request.app.state.settings
    return request.url.scheme == "https" or settings.trusted_proxy_header is not None or settings.env == "production"


def set_session_cookie(response: Response[Any], request: Request[Any, Any, Any], token: str, seconds: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=seconds,
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",  # a link from a message app still opens the page signed in; a cross-site POST carries none
    )


def clear_session_cookie(response: Response[Any], request: Request[Any, Any, Any]) -> None:
    response.set_cookie(
        SESSION_COOKIE, "", max_age=0, path="/", secure=secure_cookies(request), httponly=True, samesite="lax"
    )


async def _user_of(request: Request[Any, Any, Any], token: str) -> CurrentUser | None:
    jwt_auth = request.app.state.jwt_auth
    try:
        decoded = jwt_auth.token_cls.decode(
            encoded_token=token, secret=jwt_auth.token_secret, algorithm=jwt_auth.algorithm
        )
    except NotAuthorizedException:
        return None
    return await user_from_token(decoded, request)


async def provide_page_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """`current_user` on a signed-in page: a bearer token as the API takes it, else the session cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        user = await _user_of(request, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise NotAuthorizedException("the bearer token is invalid, expired or no longer accepted")
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    user = await _user_of(request, cookie) if cookie else None
    if user is None:
        raise SignInRequired("sign in first: this page needs a bearer token or a session")
    return user


async def provide_signed_in(request: Request[Any, Any, Any], db: DB, current_user: CurrentUserDep) -> SignedIn:
    """The name and phone on the account bar (a token outliving its account is refused by signed_in_user)."""
    account = await signed_in_user(db, current_user)
    return SignedIn(
        user=current_user,
        full_name=account.full_name,
        phone=account.phone,
        by_cookie=request.headers.get("authorization") is None,
    )


def sign_in_location(request: Request[Any, Any, Any]) -> str:
    query = request.scope.get("query_string", b"").decode("latin-1")
    here = request.url.path + (f"?{query}" if query else "")
    return f"{SIGN_IN_PATH}?next={quote(here, safe='/')}"


def redirect_to_sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    """A browser asking for a page goes to the sign-in form (and comes back); any other client gets the 401."""
    if "text/html" not in request.headers.get("accept", ""):
        answer: Response[Problem] = problem_response(
            request,
            status=401,
            code="unauthorized",
            title="Unauthorized",
            detail=exc.detail,
            headers={"WWW-Authenticate": "Bearer"},
        )
        return answer
    redirect = Redirect(sign_in_location(request), status_code=303, headers={"Cache-Control": "no-store"})
    if SESSION_COOKIE in request.cookies:  # expired, or ended by a deactivation or a new password: drop it
        clear_session_cookie(redirect, request)
    return redirect


_REFUSED = {
    "vi": {
        403: "Trang này không dành cho tài khoản của bạn",
        404: "Không tìm thấy",
        0: "Không mở được trang này",
        "other": "Đăng nhập bằng tài khoản khác",
        "switch": "English",
    },
    "en": {
        403: "This page is not for your account",
        404: "Not found",
        0: "This page cannot be shown",
        "other": "Sign in with another account",
        "switch": "Tiếng Việt",
    },
}


def refused_page(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    """A person in a browser who may not see a page (or asked for one that does not exist) reads why in their
    language, with a way to sign in as someone else; any other client gets the problem+json as everywhere."""
    if "text/html" not in request.headers.get("accept", ""):
        return handle_service_error(request, exc)
    lang = page_language(request)
    t = _REFUSED[lang]
    heading = str(t.get(exc.status, t[0]))
    body = (
        f'<h1>{e(heading)}</h1><p class="muted">{e(exc.detail)}</p>'
        f'<p><a href="{e(sign_in_location(request))}">{e(str(t["other"]))}</a></p>'
    )
    page = html_document(lang=lang, title=heading, css=BASE_CSS, body=body, other_lang_label=str(t["switch"]))
    return html_response(
        page, lang=lang, css=BASE_CSS, status_code=exc.status, headers={**SIGNED_IN_PAGE_HEADERS, **(exc.headers or {})}
    )


# What a controller of signed-in pages declares (with `opt=PAGE_OPT`): bearer or cookie, and the way to sign in.
PAGE_SIGN_IN: dict[str, Provide] = {
    "current_user": Provide(provide_page_user),
    "signed_in": Provide(provide_signed_in),
}
PAGE_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    SignInRequired: redirect_to_sign_in,
    ServiceError: refused_page,
}
PAGE_OPT: dict[str, Any] = {"exclude_from_auth": True}  # the JWT middleware would refuse a cookie-only visit
