"""Signing in with a browser: the phone-and-password form at /sign-in, signing out, and the account bar of
signed-in pages. No script; the form posts to this origin only (CSP form-action 'self'), and both forms are
refused when another site sends them (web.same_origin)."""

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Redirect

from service.auth.guards import client_address
from service.auth.schemas import LoginRequest, Role
from service.auth.service import authenticate, issue_token
from service.auth.web import (
    SESSION_SECONDS,
    SIGN_IN_PATH,
    SignedIn,
    clear_session_cookie,
    home_for,
    safe_next,
    same_origin,
    set_session_cookie,
)
from service.core.db import DB
from service.core.errors import Forbidden, InvalidInput, ServiceError, TooManyRequests, Unauthorized
from service.core.html_page import BASE_CSS, e, html_document, html_response, page_language
from service.settings import Settings

FORM_TYPE = "application/x-www-form-urlencoded"

# The account bar sits on other packages' pages: they add this to their page CSS (styles are allowed by hash).
ACCOUNT_BAR_CSS = (
    ".account{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.4rem;"
    "margin:.4rem 0;padding:.4rem .6rem;background:#fff;border-radius:.4rem;font-size:.9rem}"
    ".account form{margin:0}.account button{font:inherit;padding:.3rem .7rem;border:1px solid #0b5cad;"
    "border-radius:.3rem;background:#fff;color:#0b5cad;cursor:pointer}"
)
CSS = BASE_CSS + (
    "form.sign-in{background:#fff;border-radius:.4rem;padding:.8rem;margin:1rem 0}"
    "label{display:block;font-weight:600;margin:.6rem 0 .2rem}"
    "input{display:block;width:100%;font:inherit;font-size:1.1rem;padding:.6rem;border:1px solid #767676;"
    "border-radius:.3rem}"
    "button{font:inherit;font-size:1.1rem;margin-top:1rem;width:100%;padding:.7rem;border:0;border-radius:.3rem;"
    "background:#0b5cad;color:#fff;cursor:pointer}"
    ".error{border-left:4px solid #b00020;background:#fdecee;padding:.5rem .7rem;color:#5f0010}"
    ".notice{border-left:4px solid #1b6e20;background:#e9f5ea;padding:.5rem .7rem}"
)

ROLE_NAMES: dict[str, dict[Role, str]] = {
    "vi": {
        "farmer": "hộ sản xuất",
        "cooperative": "hợp tác xã",
        "inspector": "cán bộ kiểm tra",
        "editor": "biên tập viên di tích",
        "admin": "quản trị viên",
    },
    "en": {
        "farmer": "producer",
        "cooperative": "cooperative",
        "inspector": "inspector",
        "editor": "site editor",
        "admin": "administrator",
    },
}
T: dict[str, dict[str, str]] = {
    "vi": {
        "other": "English",
        "title": "Đăng nhập",
        "intro": "Dành cho hộ sản xuất, hợp tác xã, ban quản lý di tích và cán bộ tỉnh: xem số liệu thống kê.",
        "phone": "Số điện thoại",
        "phone_hint": "Ví dụ: 0912 345 678",
        "password": "Mật khẩu",
        "submit": "Đăng nhập",
        "wrong": "Số điện thoại hoặc mật khẩu không đúng.",
        "invalid_phone": "Số điện thoại không hợp lệ. Ví dụ: 0912 345 678.",
        "missing": "Vui lòng nhập số điện thoại và mật khẩu.",
        "throttled": "Đăng nhập sai quá nhiều lần. Vui lòng chờ {minutes} phút rồi thử lại.",
        "signed_out": "Bạn đã đăng xuất.",
        "forgot": "Quên mật khẩu? Nhờ quản trị viên của hệ thống đặt lại.",
        "signed_in_as": "Đã đăng nhập: {name} ({role})",
        "sign_out": "Đăng xuất",
    },
    "en": {
        "other": "Tiếng Việt",
        "title": "Sign in",
        "intro": "For producers, cooperatives, heritage-site managers and province officials: your statistics.",
        "phone": "Phone number",
        "phone_hint": "For example: 0912 345 678",
        "password": "Password",
        "submit": "Sign in",
        "wrong": "The phone number or the password is wrong.",
        "invalid_phone": "That is not a valid phone number. For example: 0912 345 678.",
        "missing": "Please enter your phone number and your password.",
        "throttled": "Too many wrong attempts. Please wait {minutes} minutes and try again.",
        "signed_out": "You have signed out.",
        "forgot": "Forgot your password? Ask the system's administrator to reset it.",
        "signed_in_as": "Signed in: {name} ({role})",
        "sign_out": "Sign out",
    },
}


def account_bar(signed_in: SignedIn, lang: str) -> str:
    """Who is signed in, and (for a browser session) a sign-out button."""
    t = T[lang]
    who = t["signed_in_as"].format(name=signed_in.full_name, role=ROLE_NAMES[lang][signed_in.user.role])
    button = (
        f'<form method="post" action="/sign-out?lang={lang}"><button type="submit">{e(t["sign_out"])}</button></form>'
        if signed_in.by_cookie
        else ""
    )
    return f'<div class="account"><span>{e(who)}</span>{button}</div>'


def _form_page(
    lang: str, next_path: str | None, *, phone: str = "", message: str = "", notice: str = "", status_code: int = 200
) -> Response[str]:
    """The sign-in form; `phone` is given back as typed, the password never is."""
    t = T[lang]
    next_query = f"&next={quote(next_path, safe='/')}" if next_path else ""
    alert = f'<p class="error" role="alert" id="problem">{e(message)}</p>' if message else ""
    info = f'<p class="notice" role="status">{e(notice)}</p>' if notice else ""
    described = ' aria-describedby="problem"' if message else ""
    hidden = f'<input type="hidden" name="next" value="{e(next_path)}">' if next_path else ""
    body = (
        f"<h1>{e(t['title'])}</h1><p>{e(t['intro'])}</p>{info}{alert}"
        f'<form class="sign-in" method="post" action="{SIGN_IN_PATH}?lang={lang}">{hidden}'
        f'<label for="phone">{e(t["phone"])}</label>'
        f'<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="username" required maxlength="32" '
        f'placeholder="{e(t["phone_hint"])}" value="{e(phone)}"{described}>'
        f'<label for="password">{e(t["password"])}</label>'
        f'<input id="password" name="password" type="password" autocomplete="current-password" required '
        f'maxlength="128"{described}>'
        f'<button type="submit">{e(t["submit"])}</button></form>'
        f'<p class="muted">{e(t["forgot"])}</p>'
    )
    page = html_document(
        lang=lang, title=t["title"], css=CSS, body=body, other_lang_label=t["other"], other_lang_query=next_query
    )
    headers = {"Cache-Control": "no-store"}  # the typed phone is in it
    return html_response(page, lang=lang, css=CSS, forms=True, status_code=status_code, headers=headers)


def _text(form: Any, name: str, limit: int) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and len(value) <= limit else None


def _cross_site(request: Request[Any, Any, Any]) -> None:
    if not same_origin(request):
        raise Forbidden("this form can only be sent from this site's own page", code="cross_site_form")


class SignInController(Controller):
    path = "/"
    tags = ["auth"]
    include_in_schema = False  # human pages, like every other HTML page
    opt = {"exclude_from_auth": True}

    @get(SIGN_IN_PATH, operation_id="sign_in_page", media_type="text/html")
    async def sign_in_page(self, request: Request[Any, Any, Any]) -> Response[str]:
        """The sign-in form (phone and password) for people using a browser."""
        lang = page_language(request)
        notice = T[lang]["signed_out"] if request.query_params.get("signed_out") == "1" else ""
        return _form_page(lang, safe_next(request.query_params.get("next")), notice=notice)

    @post(SIGN_IN_PATH, operation_id="sign_in", media_type="text/html", status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], db: DB, state: State) -> Response[Any]:
        """Check phone and password like the API's login; on success a session cookie and a 303 to `next`."""
        _cross_site(request)
        if request.content_type[0] != FORM_TYPE:
            raise ServiceError("the sign-in form is sent as " + FORM_TYPE, code="unsupported_media_type", status=415)
        lang = page_language(request)
        t = T[lang]
        form = await request.form()
        next_path = safe_next(_text(form, "next", 2000))
        phone = _text(form, "phone", 32) or ""
        password = _text(form, "password", 128) or ""
        if not phone.strip() or not password:
            return _form_page(lang, next_path, phone=phone, message=t["missing"], status_code=400)
        settings: Settings = state.settings
        try:
            login = msgspec.convert({"phone": phone, "password": password}, LoginRequest)
            account = await authenticate(db, state.password_hashing, login, client_address(request), settings)
        except (msgspec.ValidationError, InvalidInput):
            return _form_page(lang, next_path, phone=phone, message=t["invalid_phone"], status_code=400)
        except Unauthorized:
            return _form_page(lang, next_path, phone=phone, message=t["wrong"], status_code=401)
        except TooManyRequests as exc:
            minutes = max(1, -(-settings.login_window_seconds // 60))
            page = _form_page(
                lang, next_path, phone=phone, message=t["throttled"].format(minutes=minutes), status_code=429
            )
            page.headers.update(exc.headers)
            return page
        seconds = min(SESSION_SECONDS, settings.jwt_ttl_seconds)
        token = issue_token(state.jwt_auth, account, seconds).access_token
        redirect = Redirect(next_path or home_for(account.user.role), status_code=303)
        redirect.headers["Cache-Control"] = "no-store"
        set_session_cookie(redirect, request, token, seconds)
        return redirect

    @post("/sign-out", operation_id="sign_out", media_type="text/html", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Forget this browser's session cookie and go back to the sign-in form."""
        _cross_site(request)
        lang = page_language(request)
        redirect = Redirect(f"{SIGN_IN_PATH}?lang={lang}&signed_out=1", status_code=303)
        clear_session_cookie(redirect, request)
        return redirect
