"""The console's session: the login form, the HttpOnly cookie, the CSRF token bound to it, and
the session cookie standing in for ``Authorization: Bearer`` on the JSON API (``herald.deps``).

Everything goes over HTTP to the real app, as a browser without JavaScript would: the client's
cookie jar carries ``herald_login_csrf`` and ``herald_session`` between requests, and the CSRF
token is read from the ``csrf-token`` meta tag of a page Herald served.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from sqlalchemy import select

from herald.app import create_app
from herald.config import Settings
from herald.db import session_factory
from herald.kit.clock import FrozenClock
from herald.models import Template, User
from herald.user import service as user_service
from tests.conftest import (
    PASSWORD,
    TEST_JWT_SECRET,
    DatabaseUnderTest,
    add_user,
    assert_error,
    count_rows,
    login,
)
from tests.console.helpers import (
    LOGIN,
    LOGIN_NONCE,
    LOGOUT,
    SESSION,
    TEMPLATES_API,
    clears,
    console_session,
    cookie_attributes,
    csrf_of,
    expected_csrf,
    login_error_of,
    next_field_of,
    nonce_of,
    only_session,
    open_login_form,
    set_cookies,
    set_user,
    submit_login,
)

PAGE = "/console/templates"
NEW_TEMPLATE = {"name": "from_console", "language": "en", "category": "UTILITY", "body": "Hi {{1}}"}
NEW_PASSWORD = "n3w-console-pass-42"


def login_redirect(path: str) -> str:
    return f"{LOGIN}?{urlencode({'next': path})}"


async def assert_sent_to_login(
    client: httpx.AsyncClient, path: str = PAGE, *, cleared: bool
) -> httpx.Response:
    """The page answers with the login redirect; ``cleared``: it also drops the cookie."""
    answer = await client.get(path)
    assert answer.status_code == 303, (path, answer.status_code, answer.text[:500])
    assert answer.headers["location"] == login_redirect(path)
    dropping = set_cookies(answer, SESSION)
    if cleared:
        assert dropping, answer.headers
        assert all(clears(h) for h in dropping), dropping
        assert all(cookie_attributes(h)[1].get("path") == "/" for h in dropping), dropping
    else:
        assert not dropping, dropping
    return answer


async def template_rows(db: DatabaseUnderTest) -> list[tuple[int, str]]:
    async with session_factory(db.engine)() as session:
        rows = (await session.execute(select(Template.user_id, Template.name))).all()
    return [(user_id, name) for user_id, name in rows]


# --- the login form ---------------------------------------------------------------------------


async def test_the_login_form_has_a_nonce_in_a_field_and_in_its_own_cookie(
    client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    form = await client.get(LOGIN)
    assert form.status_code == 200, form.text
    assert form.headers["content-type"].startswith("text/html")
    assert form.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in form.headers["content-security-policy"]
    assert form.headers["x-frame-options"] == "DENY"  # no clickjacking of the password form
    assert '<form method="post" action="/console/login"' in form.text
    assert 'name="email"' in form.text
    assert 'name="password" type="password"' in form.text
    assert 'name="csrf-token"' not in form.text  # no session, no session CSRF token
    nonce = nonce_of(form)
    assert len(nonce) >= 24
    (cookie,) = set_cookies(form, LOGIN_NONCE)
    value, attributes = cookie_attributes(cookie)
    assert value == nonce
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/console/"
    assert not set_cookies(form, SESSION)
    assert next_field_of(form) == "/console/"
    # Each form gets a nonce of its own.
    assert nonce_of(await client.get(LOGIN)) != nonce


async def test_a_login_with_a_wrong_or_missing_nonce_is_403_and_opens_no_session(
    client: httpx.AsyncClient, ana: User
) -> None:
    nonce = await open_login_form(client)
    good = {"email": ana.email, "password": PASSWORD}
    refused: dict[str, dict[str, str]] = {
        "a wrong nonce": {**good, "nonce": nonce[:-2] + ("AA" if nonce[-2:] != "AA" else "BB")},
        "no nonce": good,
        "an empty nonce": {**good, "nonce": ""},
    }
    for name, fields in refused.items():
        answer = await client.post(LOGIN, data=fields)
        assert answer.status_code == 403, (name, answer.text)
        assert login_error_of(answer) == "The form expired; please log in again.", name
        assert not set_cookies(answer, SESSION), (name, answer.headers)
        assert client.cookies.get(SESSION) is None, name
        nonce = nonce_of(answer)  # the refusal is a fresh form with a fresh nonce
    # The right nonce in the field but no nonce cookie (another site's form): refused too.
    client.cookies.delete(LOGIN_NONCE)
    answer = await client.post(LOGIN, data={**good, "nonce": nonce})
    assert answer.status_code == 403, answer.text
    assert not set_cookies(answer, SESSION)
    # The control: the refused page's own nonce logs in.
    answer = await client.post(LOGIN, data={**good, "nonce": nonce_of(answer)})
    assert answer.status_code == 303, answer.text
    assert set_cookies(answer, SESSION)


async def test_a_non_ascii_nonce_is_refused_like_any_wrong_nonce(
    client: httpx.AsyncClient, ana: User
) -> None:
    """The nonce is compared with ``hmac.compare_digest``, which raises TypeError for a str
    with non-ASCII characters; a forged form must still get the 403 page, not a 500."""
    await open_login_form(client)
    for nonce in ("é", "ü" * 32, "\u2603"):
        answer = await client.post(
            LOGIN, data={"email": ana.email, "password": PASSWORD, "nonce": nonce}
        )
        assert answer.status_code == 403, (nonce, answer.status_code, answer.text[:300])
        assert login_error_of(answer) == "The form expired; please log in again."
        assert not set_cookies(answer, SESSION)


async def test_a_wrong_password_shows_the_error_with_401_and_opens_no_session(
    client: httpx.AsyncClient, ana: User
) -> None:
    for email, password in ((ana.email, "not-the-password"), ("nobody@example.com", PASSWORD)):
        answer = await submit_login(client, email, password)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert login_error_of(answer) == "Invalid credentials."
        assert not set_cookies(answer, SESSION)
        assert client.cookies.get(SESSION) is None
        assert next_field_of(answer) == "/console/"
        assert nonce_of(answer)  # the form again, ready for another try
    assert (await client.get(PAGE)).status_code == 303


async def test_a_user_without_api_access_is_refused(
    client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    user = await add_user(db, "noapi@example.com", has_api_access=False)
    answer = await submit_login(client, user.email)
    assert answer.status_code == 403, answer.text
    error = login_error_of(answer)
    assert error is not None
    assert "API access is disabled" in error
    assert not set_cookies(answer, SESSION)
    assert client.cookies.get(SESSION) is None


async def test_a_disabled_user_cannot_log_in_to_the_console(
    client: httpx.AsyncClient, db: DatabaseUnderTest, ana: User
) -> None:
    await set_user(db, ana.id, is_disabled=True)
    answer = await submit_login(client, ana.email)
    assert answer.status_code == 401, answer.text
    assert login_error_of(answer) == "Invalid credentials."
    assert not set_cookies(answer, SESSION)


async def test_failed_console_logins_are_throttled_like_the_api(
    client: httpx.AsyncClient, ana: User
) -> None:
    for _ in range(5):
        assert (await submit_login(client, ana.email, "wrong-one")).status_code == 401
    throttled = await submit_login(client, ana.email)
    assert throttled.status_code == 429, throttled.text
    assert login_error_of(throttled)
    assert not set_cookies(throttled, SESSION)
    # The console and the API share the budget.
    answer = await client.post(
        "/api/login_check", json={"username": ana.email, "password": PASSWORD}
    )
    assert_error(answer, 429, "rate_limited")


async def test_good_credentials_redirect_to_next_with_a_strict_httponly_session_cookie(
    client: httpx.AsyncClient, ana: User
) -> None:
    answer = await submit_login(client, "Ana@Example.com", next_path="/console/messages?state=read")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/messages?state=read"
    (cookie,) = set_cookies(answer, SESSION)
    token, attributes = cookie_attributes(cookie)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == "3600"  # the token's own lifetime
    assert "secure" not in attributes  # plain http here; https sets it
    claims = jwt.decode(token, TEST_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(ana.id)
    # The session opens the page it was sent to, which carries the session's CSRF token.
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200, page.text
    assert csrf_of(page) == expected_csrf(token)
    assert ana.email in page.text


async def test_over_https_both_cookies_are_secure(
    settings: Settings, clock: FrozenClock, ana: User
) -> None:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="https://herald.test") as tls:
            form = await tls.get(LOGIN)
            (nonce_cookie,) = set_cookies(form, LOGIN_NONCE)
            assert "secure" in cookie_attributes(nonce_cookie)[1]
            answer = await submit_login(tls, ana.email)
            assert answer.status_code == 303, answer.text
            (session_cookie,) = set_cookies(answer, SESSION)
            attributes = cookie_attributes(session_cookie)[1]
            assert "secure" in attributes
            assert "httponly" in attributes
            assert attributes["samesite"].lower() == "strict"
            assert (await tls.get(PAGE)).status_code == 200


async def test_the_console_root_goes_to_the_dashboard(client: httpx.AsyncClient, ana: User) -> None:
    answer = await submit_login(client, ana.email)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/")
    home = await client.get("/console/")
    assert (home.status_code, home.headers["location"]) == (303, "/console/dashboard")
    bare = await client.get("/console")
    assert bare.status_code in (307, 308)
    assert bare.headers["location"].endswith("/console/")


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/",
        "//evil.example/console/messages",
        "http://herald.test/console/messages",
        "/\\evil.example/",
        "\\\\evil.example/console/",
        "javascript:alert(1)",
        "/api/user/",
        "/console",
        "",
    ],
)
async def test_next_may_only_be_a_console_path(
    client: httpx.AsyncClient, ana: User, next_path: str
) -> None:
    form = await client.get(LOGIN, params={"next": next_path})
    assert form.status_code == 200, form.text
    assert next_field_of(form) == "/console/"
    # Posted by hand (the form's hidden field can be edited): still only the console.
    answer = await client.post(
        LOGIN,
        data={"email": ana.email, "password": PASSWORD, "nonce": nonce_of(form), "next": next_path},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/"
    assert set_cookies(answer, SESSION)


async def test_a_login_sent_from_a_long_address_still_logs_in(
    client: httpx.AsyncClient, ana: User
) -> None:
    """A page asked for with a long query string sends its whole address as ``next``, and the
    form echoes it; the login must still succeed (to that page or to the console's home), not
    answer with the JSON validation error of the form's 2000-character limit on ``next``."""
    path = "/console/messages?phone_number=" + "1" * 2100
    sent = await client.get(path)
    assert sent.status_code == 303
    form = await client.get(sent.headers["location"])
    assert form.status_code == 200, form.text
    answer = await client.post(
        LOGIN,
        data={
            "email": ana.email,
            "password": PASSWORD,
            "nonce": nonce_of(form),
            "next": next_field_of(form),
        },
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])
    # Back to the page (without its over-long filters) or to the console home.
    assert answer.headers["location"] in ("/console/messages", "/console/")
    assert set_cookies(answer, SESSION)


# --- the cookie on the JSON API ---------------------------------------------------------------


async def test_the_session_cookie_reads_the_api_without_a_csrf_token(
    client: httpx.AsyncClient, ana: User
) -> None:
    assert_error(await client.get(TEMPLATES_API), 401, "token_missing")
    await console_session(client, ana.email)
    listed = await client.get(TEMPLATES_API)
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"]["items"] == []
    profile = await client.get("/api/user/")
    assert profile.status_code == 200, profile.text
    assert profile.json()["data"]["email"] == ana.email


async def test_a_change_by_cookie_needs_the_csrf_header(
    client: httpx.AsyncClient, db: DatabaseUnderTest, ana: User
) -> None:
    csrf = await console_session(client, ana.email)
    refused = {
        "no header": {},
        "an empty header": {"X-CSRF-Token": ""},
        "a wrong token": {"X-CSRF-Token": "0" * 64},
        "the token in upper case": {"X-CSRF-Token": csrf.upper()},
        "the token cut short": {"X-CSRF-Token": csrf[:-1]},
        "the session cookie itself": {"X-CSRF-Token": client.cookies[SESSION]},
    }
    for name, headers in refused.items():
        answer = await client.post(TEMPLATES_API, json=NEW_TEMPLATE, headers=headers)
        assert_error(answer, 403, "csrf_token_invalid")
        assert await count_rows(db, "templates") == 0, name
    created = await client.post(TEMPLATES_API, json=NEW_TEMPLATE, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    template_id = created.json()["data"]["id"]
    assert await template_rows(db) == [(ana.id, "from_console")]
    # Every request that can change something: submitting and deleting too.
    path = f"{TEMPLATES_API}/{template_id}"
    assert_error(await client.post(f"{path}/submit"), 403, "csrf_token_invalid")
    assert_error(await client.delete(path), 403, "csrf_token_invalid")
    assert (await client.get(path)).json()["data"]["state"] == "DRAFT"
    deleted = await client.delete(path, headers={"X-CSRF-Token": csrf})
    assert deleted.status_code == 200, deleted.text
    assert await count_rows(db, "templates") == 0


async def test_a_non_ascii_csrf_header_is_403_not_500(
    client: httpx.AsyncClient, db: DatabaseUnderTest, ana: User
) -> None:
    """A header's bytes arrive as latin-1 text; ``hmac.compare_digest`` raises TypeError for a
    str with non-ASCII characters, so such a token must be refused before it is compared."""
    await console_session(client, ana.email)
    for raw in (b"\xe9", b"\xe9" * 64, "caf\u00e9".encode("latin-1")):
        answer = await client.post(TEMPLATES_API, json=NEW_TEMPLATE, headers={"X-CSRF-Token": raw})
        assert answer.status_code == 403, (raw, answer.status_code, answer.text[:300])
        assert answer.json()["code"] == "csrf_token_invalid", raw
    assert await count_rows(db, "templates") == 0


async def test_the_csrf_token_of_another_session_is_refused(
    client: httpx.AsyncClient, db: DatabaseUnderTest, ana: User, clock: FrozenClock
) -> None:
    bob = await add_user(db, "bob@example.com", now=clock.now())
    bobs_csrf = await console_session(client, bob.email)
    first_csrf = await console_session(client, ana.email)
    first_token = client.cookies[SESSION]
    second_csrf = await console_session(client, ana.email)
    second_token = client.cookies[SESSION]
    assert second_token != first_token
    assert len({bobs_csrf, first_csrf, second_csrf}) == 3
    for name, csrf in (("ana's other session", first_csrf), ("bob's session", bobs_csrf)):
        answer = await client.post(TEMPLATES_API, json=NEW_TEMPLATE, headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 403, (name, answer.text)
        assert answer.json()["code"] == "csrf_token_invalid", name
    assert await count_rows(db, "templates") == 0
    made = await client.post(
        TEMPLATES_API, json=NEW_TEMPLATE, headers={"X-CSRF-Token": second_csrf}
    )
    assert made.status_code == 201, made.text
    # Both of ana's sessions stay open, each with its own token.
    only_session(client, first_token)
    again = {**NEW_TEMPLATE, "name": "from_first_session"}
    made = await client.post(TEMPLATES_API, json=again, headers={"X-CSRF-Token": first_csrf})
    assert made.status_code == 201, made.text
    assert sorted(await template_rows(db)) == sorted(
        [(ana.id, "from_console"), (ana.id, "from_first_session")]
    )


async def test_a_bearer_header_needs_no_csrf_and_wins_over_the_cookie(
    client: httpx.AsyncClient, db: DatabaseUnderTest, ana: User, clock: FrozenClock
) -> None:
    bob = await add_user(db, "bob@example.com", now=clock.now())
    bob_bearer = {"Authorization": f"Bearer {await login(client, bob.email)}"}
    ana_bearer = {"Authorization": f"Bearer {await login(client, ana.email)}"}
    # No cookie at all: the API as before.
    made = await client.post(TEMPLATES_API, json=NEW_TEMPLATE, headers=ana_bearer)
    assert made.status_code == 201, made.text
    # With ana's session cookie in the jar, a Bearer request is still judged by its header.
    await console_session(client, ana.email)
    made = await client.post(
        TEMPLATES_API, json={**NEW_TEMPLATE, "name": "bobs_own"}, headers=bob_bearer
    )
    assert made.status_code == 201, made.text
    assert sorted(await template_rows(db)) == sorted(
        [(ana.id, "from_console"), (bob.id, "bobs_own")]
    )
    # A broken Bearer header does not fall back to the cookie.
    answer = await client.get(TEMPLATES_API, headers={"Authorization": "Bearer not.a.jwt"})
    assert_error(answer, 401, "token_invalid")


async def test_an_invalid_session_cookie_on_the_api_is_401(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    csrf = await console_session(client, ana.email)
    token = client.cookies[SESSION]
    head, payload, signature = token.split(".")
    only_session(client, f"{head}.{payload}.{signature[:-4]}AAAA")
    assert_error(await client.get(TEMPLATES_API), 401, "token_invalid")
    answer = await client.post(TEMPLATES_API, json=NEW_TEMPLATE, headers={"X-CSRF-Token": csrf})
    assert_error(answer, 401, "token_invalid")
    only_session(client, token)
    clock.advance(timedelta(seconds=3600))
    assert_error(await client.get(TEMPLATES_API), 401, "token_expired")


# --- logging out ------------------------------------------------------------------------------


async def test_logout_with_the_csrf_field_clears_the_session(
    client: httpx.AsyncClient, ana: User
) -> None:
    csrf = await console_session(client, ana.email)
    page = await client.get(PAGE)
    assert '<form class="logout" method="post" action="/console/logout">' in page.text
    assert f'<input type="hidden" name="csrf" value="{csrf}">' in page.text
    answer = await client.post(LOGOUT, data={"csrf": csrf})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == LOGIN
    (dropping,) = set_cookies(answer, SESSION)
    assert clears(dropping), dropping
    assert cookie_attributes(dropping)[1]["path"] == "/"
    assert client.cookies.get(SESSION) is None
    await assert_sent_to_login(client, PAGE, cleared=False)


async def test_a_copy_of_a_logged_out_cookie_is_refused_everywhere(
    client: httpx.AsyncClient, ana: User
) -> None:
    """Logging out ends the token, not only the browser's cookie."""
    csrf = await console_session(client, ana.email)
    copied = client.cookies[SESSION]
    assert (await client.post(LOGOUT, data={"csrf": csrf})).status_code == 303
    only_session(client, copied)
    await assert_sent_to_login(client, PAGE, cleared=True)
    only_session(client, copied)
    answer = await client.get("/api/v2/whatsapp/templates")
    assert answer.status_code == 401, answer.text
    assert answer.json()["code"] == "token_invalid"
    # Another session of the same user is untouched.
    await console_session(client, ana.email)
    assert (await client.get(PAGE)).status_code == 200


async def test_logout_without_the_right_csrf_keeps_the_session(
    client: httpx.AsyncClient, ana: User
) -> None:
    first_csrf = await console_session(client, ana.email)
    csrf = await console_session(client, ana.email)
    for name, fields in {
        "no field": {},
        "an empty field": {"csrf": ""},
        "a wrong token": {"csrf": "0" * 64},
        "another session's token": {"csrf": first_csrf},
    }.items():
        answer = await client.post(LOGOUT, data=fields)
        assert answer.status_code == 303, (name, answer.text)
        assert not set_cookies(answer, SESSION), (name, answer.headers)
        assert client.cookies.get(SESSION), name
        assert (await client.get(PAGE)).status_code == 200, name
    # The control: the right token does log out.
    assert set_cookies(await client.post(LOGOUT, data={"csrf": csrf}), SESSION)


async def test_logout_without_a_session_goes_to_the_login_form(
    client: httpx.AsyncClient, db: DatabaseUnderTest
) -> None:
    answer = await client.post(LOGOUT, data={"csrf": "0" * 64})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(LOGIN)


# --- sessions that end without a logout -----------------------------------------------------


async def test_a_password_change_through_the_api_ends_the_console_session(
    client: httpx.AsyncClient, ana: User
) -> None:
    csrf = await console_session(client, ana.email)
    changed = await client.put(
        "/api/user/",
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200, changed.text
    old = client.cookies[SESSION]
    await assert_sent_to_login(client, PAGE, cleared=True)
    only_session(client, old)
    assert_error(await client.get(TEMPLATES_API), 401, "token_invalid")
    # The old password no longer opens one; the new one does.
    client.cookies.delete(SESSION)
    assert (await submit_login(client, ana.email)).status_code == 401
    answer = await submit_login(client, ana.email, NEW_PASSWORD)
    assert answer.status_code == 303, answer.text
    assert (await client.get(PAGE)).status_code == 200


async def test_a_password_set_by_the_operator_ends_the_console_session(
    client: httpx.AsyncClient, db: DatabaseUnderTest, ana: User, clock: FrozenClock
) -> None:
    """``herald users set-password`` (its service, as the CLI calls it)."""
    await console_session(client, ana.email)
    token = client.cookies[SESSION]
    assert (await client.get(PAGE)).status_code == 200
    async with session_factory(db.engine)() as session:
        await user_service.set_password(session, ana.email, NEW_PASSWORD, clock.now())
        await session.commit()
    await assert_sent_to_login(client, "/console/messages?state=failed", cleared=True)
    only_session(client, token)
    assert_error(await client.get(TEMPLATES_API), 401, "token_invalid")


async def test_revoked_api_access_or_a_disabled_user_ends_the_console_session(
    client: httpx.AsyncClient, db: DatabaseUnderTest, ana: User
) -> None:
    await console_session(client, ana.email)
    token = client.cookies[SESSION]
    await set_user(db, ana.id, has_api_access=False)
    await assert_sent_to_login(client, PAGE, cleared=True)
    only_session(client, token)
    assert_error(await client.get(TEMPLATES_API), 403, "api_access_disabled")
    await set_user(db, ana.id, has_api_access=True)
    assert (await client.get(PAGE)).status_code == 200
    await set_user(db, ana.id, is_disabled=True)
    await assert_sent_to_login(client, PAGE, cleared=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_tampered_session_cookie_sends_to_login_and_is_cleared(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    await console_session(client, ana.email)
    token = client.cookies[SESSION]
    head, payload, signature = token.split(".")
    claims = jwt.decode(token, TEST_JWT_SECRET, algorithms=["HS256"])
    as_bob = {**claims, "sub": str(ana.id + 1)}
    tampered = {
        "a flipped signature": f"{head}.{payload}.{signature[:-4]}AAAA",
        "another user's id under ana's signature": (
            f"{head}.{_b64(json.dumps(as_bob).encode())}.{signature}"
        ),
        "signed with another secret": jwt.encode(
            claims, "another-secret-0123456789-abcdefghijklmnopqrstuvwxyz", algorithm="HS256"
        ),
        "alg none": f"{_b64(json.dumps({'alg': 'none'}).encode())}.{payload}.",
        "garbage": "not-a-jwt",
    }
    for name, value in tampered.items():
        only_session(client, value)
        answer = await assert_sent_to_login(client, "/console/messages?state=failed", cleared=True)
        assert answer.headers["location"] == (
            "/console/login?next=%2Fconsole%2Fmessages%3Fstate%3Dfailed"
        ), name
    # The control: the untouched token still opens the page.
    only_session(client, token)
    assert (await client.get(PAGE)).status_code == 200


async def test_an_expired_session_sends_to_login_and_is_cleared(
    client: httpx.AsyncClient, ana: User, clock: FrozenClock
) -> None:
    await console_session(client, ana.email)
    clock.advance(timedelta(seconds=3599))
    assert (await client.get(PAGE)).status_code == 200
    clock.advance(timedelta(seconds=1))
    await assert_sent_to_login(client, PAGE, cleared=True)
