"""Signing in with a browser: the form at /sign-in, the session cookie it sets, and what that cookie may open
(the statistics pages) and may not (the JSON API); forms sent from other sites are refused."""

from http.cookies import SimpleCookie

import httpx
import pytest

from service.auth.web import SESSION_COOKIE
from service.settings import Settings
from tests.support.app import UserFactory
from tests.support.factories import BASE, Client, assert_problem

PASSWORD = "mật-khẩu-an-toàn-1"  # the make_user fixture's
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SAME_ORIGIN = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}


async def sign_in(client: Client, phone: str, password: str = PASSWORD, **form: str) -> httpx.Response:
    return await client.post(
        "/sign-in",
        data={"phone": phone, "password": password, **form},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )


def session_cookie(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


async def test_the_form_signs_a_cooperative_in_and_opens_their_statistics_page(
    client: Client, make_user: UserFactory
) -> None:
    user = await make_user("cooperative", name="Chị Lan <HTX>")
    form = await client.get("/sign-in?next=/stats/producer%3Fdays%3D7", headers=HTML)
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    assert "form-action 'self'" in form.headers["content-security-policy"]
    assert "script-src 'none'" in form.headers["content-security-policy"]
    assert 'name="next" value="/stats/producer?days=7"' in form.text
    assert 'autocomplete="current-password"' in form.text

    answer = await sign_in(client, user["X-Phone"], next="/stats/producer?days=7")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/stats/producer?days=7"
    cookie = session_cookie(answer)[SESSION_COOKIE]
    assert cookie.value
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == "43200"

    page = await client.get("/stats/producer?days=7", headers=HTML)
    assert page.status_code == 200, page.text
    assert "Ai quét mã sản phẩm của tôi" in page.text
    assert "Chị Lan &lt;HTX&gt; (hợp tác xã)" in page.text  # who is signed in, escaped
    assert 'action="/sign-out?lang=vi"' in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "private, no-cache"  # never kept by a shared cache
    assert "Cookie" in page.headers["vary"]

    signed_out = await client.post("/sign-out", headers=SAME_ORIGIN, follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/sign-in?lang=vi&signed_out=1"
    assert session_cookie(signed_out)[SESSION_COOKIE]["max-age"] == "0"
    again = await client.get("/stats/producer?days=7", headers=HTML, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/sign-in?next=/stats/producer%3Fdays%3D7"


async def test_without_next_each_role_lands_on_its_own_statistics(client: Client, make_user: UserFactory) -> None:
    for role, home in (("inspector", "/stats/province"), ("editor", "/stats/sites"), ("farmer", "/stats/producer")):
        user = await make_user(role)
        answer = await sign_in(client, user["X-Phone"])
        assert (answer.status_code, answer.headers["location"]) == (303, home), role
        assert (await client.get(home, headers=HTML)).status_code == 200, role


async def test_a_wrong_password_shows_the_form_again_with_the_phone_and_without_a_cookie(
    client: Client, make_user: UserFactory
) -> None:
    user = await make_user("cooperative")
    answer = await sign_in(client, user["X-Phone"], password="sai-mat-khau-99", next="/stats/sites")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert "Số điện thoại hoặc mật khẩu không đúng." in answer.text
    assert f'value="{user["X-Phone"]}"' in answer.text
    assert "sai-mat-khau-99" not in answer.text
    assert 'name="next" value="/stats/sites"' in answer.text
    assert "set-cookie" not in answer.headers
    assert (await client.get("/stats/producer", headers=HTML, follow_redirects=False)).status_code == 303


async def test_a_mistyped_phone_or_an_empty_field_is_a_400_form_and_what_was_typed_is_escaped(client: Client) -> None:
    typed = '"><script>alert(1)</script>'
    answer = await sign_in(client, typed)
    assert answer.status_code == 400
    assert "Số điện thoại không hợp lệ" in answer.text
    assert "<script>" not in answer.text and "&quot;&gt;&lt;script&gt;" in answer.text
    empty = await sign_in(client, "0911222333", password="")
    assert empty.status_code == 400 and "Vui lòng nhập số điện thoại và mật khẩu." in empty.text
    english = await client.post("/sign-in?lang=en", data={"phone": "12"}, headers=SAME_ORIGIN, follow_redirects=False)
    assert english.status_code == 400 and "Please enter your phone number and your password." in english.text
    as_json = await client.post("/sign-in", json={"phone": "0911222333", "password": PASSWORD}, headers=SAME_ORIGIN)
    assert_problem(as_json, 415, "unsupported_media_type")


async def test_sign_in_is_throttled_like_the_api_login(
    client: Client, make_user: UserFactory, settings: Settings
) -> None:
    user = await make_user("inspector")
    for attempt in range(settings.login_max_attempts):
        wrong = await sign_in(client, user["X-Phone"], password=f"guess-{attempt:04d}")
        assert wrong.status_code == 401, attempt
    throttled = await sign_in(client, user["X-Phone"])  # the right password, too late
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == str(settings.login_window_seconds)
    assert "Đăng nhập sai quá nhiều lần. Vui lòng chờ 5 phút rồi thử lại." in throttled.text
    assert "set-cookie" not in throttled.headers
    api = await client.post("/api/v1/auth/login", json={"phone": user["X-Phone"], "password": PASSWORD})
    assert_problem(api, 429, "login_throttled")  # one counter for both doors


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/stats",
        "https://evil.example/stats",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/stats\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "stats/producer",
        "",
    ],
)
async def test_next_never_leads_off_the_site(client: Client, make_user: UserFactory, next_path: str) -> None:
    user = await make_user("cooperative")
    answer = await sign_in(client, user["X-Phone"], next=next_path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/stats/producer"
    form = await client.get("/sign-in", params={"next": next_path}, headers=HTML)
    assert 'name="next"' not in form.text


async def test_a_hand_typed_next_with_vietnamese_is_kept_on_the_site_and_escaped(
    client: Client, make_user: UserFactory
) -> None:
    user = await make_user("cooperative")
    answer = await sign_in(client, user["X-Phone"], next="/stats/producer?ghi-chú=thống-kê&days=7")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/stats/producer?ghi-ch%C3%BA=th%E1%BB%91ng-k%C3%AA&days=7"


async def test_a_deactivated_users_cookie_stops_working_at_once(client: Client, make_user: UserFactory) -> None:
    user = await make_user("cooperative")
    admin = await make_user("admin")
    assert (await sign_in(client, user["X-Phone"])).status_code == 303
    assert (await client.get("/stats/producer", headers=HTML)).status_code == 200
    changed = await client.patch(f"/api/v1/admin/users/{user['X-User-Id']}", json={"is_active": False}, headers=admin)
    assert changed.status_code == 200, changed.text
    page = await client.get("/stats/producer", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/stats/producer"
    assert session_cookie(page)[SESSION_COOKIE]["max-age"] == "0"  # the dead cookie is dropped


async def test_a_wrong_role_gets_the_403_and_a_new_role_means_signing_in_again(
    client: Client, make_user: UserFactory
) -> None:
    user = await make_user("editor")
    admin = await make_user("admin")
    assert (await sign_in(client, user["X-Phone"])).status_code == 303
    refused = await client.get("/stats/province", headers=HTML)  # a browser reads why, in its language
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "Trang này không dành cho tài khoản của bạn" in refused.text
    assert 'href="/sign-in?next=/stats/province"' in refused.text and "private" in refused.headers["cache-control"]
    app_client = {"Authorization": user["Authorization"], "Accept": "application/json"}
    assert_problem(await client.get("/stats/province", headers=app_client), 403, "statistics_forbidden")
    promoted = await client.patch(f"/api/v1/admin/users/{user['X-User-Id']}", json={"role": "inspector"}, headers=admin)
    assert promoted.status_code == 200, promoted.text
    ended = await client.get("/stats/province", headers=HTML, follow_redirects=False)
    assert (ended.status_code, ended.headers["location"]) == (303, "/sign-in?next=/stats/province")
    assert (await sign_in(client, user["X-Phone"], next="/stats/province")).status_code == 303
    assert (await client.get("/stats/province", headers=HTML)).status_code == 200


async def test_the_cookie_does_not_authorize_the_json_api(client: Client, make_user: UserFactory) -> None:
    user = await make_user("cooperative")
    assert (await sign_in(client, user["X-Phone"])).status_code == 303
    assert client.cookies.get(SESSION_COOKIE)
    assert_problem(await client.get("/api/v1/me"), 401)
    write = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "mat-khau-moi-2"}
    )
    assert_problem(write, 401)
    assert (await client.get("/api/v1/me", headers={"Authorization": user["Authorization"]})).status_code == 200


async def test_bearer_tokens_still_open_the_pages_and_other_clients_get_a_401_not_a_redirect(
    client: Client, make_user: UserFactory
) -> None:
    user = await make_user("cooperative", name="Anh Bình")
    page = await client.get("/stats/producer", headers={"Authorization": user["Authorization"]})
    assert page.status_code == 200
    assert "Anh Bình" in page.text and "/sign-out" not in page.text  # an app's token is not signed out here
    assert_problem(await client.get("/stats/producer"), 401)
    assert_problem(await client.get("/stats/producer", headers={"Authorization": "Bearer nonsense"}), 401)
    stale = await client.get(
        "/stats/sites?days=7", headers={**HTML, "Cookie": f"{SESSION_COOKIE}=nonsense"}, follow_redirects=False
    )
    assert (stale.status_code, stale.headers["location"]) == (303, "/sign-in?next=/stats/sites%3Fdays%3D7")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://shop.trace.example.vn", "Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},  # an older browser without Fetch Metadata
        {"Origin": "null"},
    ],
)
async def test_forms_sent_from_other_sites_are_refused(
    client: Client, make_user: UserFactory, headers: dict[str, str]
) -> None:
    user = await make_user("cooperative")
    forged = await client.post(
        "/sign-in", data={"phone": user["X-Phone"], "password": PASSWORD}, headers=headers, follow_redirects=False
    )
    assert_problem(forged, 403, "cross_site_form")
    assert "set-cookie" not in forged.headers
    assert (await sign_in(client, user["X-Phone"])).status_code == 303
    assert_problem(await client.post("/sign-out", headers=headers, follow_redirects=False), 403, "cross_site_form")
    assert (await client.get("/stats/producer", headers=HTML)).status_code == 200  # still signed in


async def test_the_sign_in_page_speaks_english_when_asked_and_keeps_next_across_the_switch(client: Client) -> None:
    page = await client.get("/sign-in?next=/stats/sites", headers={**HTML, "Accept-Language": "en-US,en;q=0.9"})
    assert page.headers["content-language"] == "en"
    assert "<h1>Sign in</h1>" in page.text
    assert 'href="?lang=vi&amp;next=/stats/sites"' in page.text
    assert 'action="/sign-in?lang=en"' in page.text
