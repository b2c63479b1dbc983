"""Driving the console over HTTP as a browser would: the login form, the session cookie, the
CSRF token a page carries, and reading what a page shows."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import jwt
from sqlalchemy import update

from herald.models import Message, User
from tests.conftest import PASSWORD, TEST_JWT_SECRET, DatabaseUnderTest

SESSION = "herald_session"
LOGIN_NONCE = "herald_login_csrf"
LOGIN = "/console/login"
LOGOUT = "/console/logout"
TEMPLATES_API = "/api/v2/whatsapp/templates"

_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
_NONCE_FIELD = re.compile(r'<input type="hidden" name="nonce" value="([^"]*)">')
_NEXT_FIELD = re.compile(r'<input type="hidden" name="next" value="([^"]*)">')
_LOGIN_ERROR = re.compile(r'<p class="error" role="alert" id="login-error">(.*?)</p>', re.S)
_MESSAGE_ROW = re.compile(r'<tr data-message-id="(\d+)">(.*?)</tr>', re.S)


def expected_csrf(session_token: str) -> str:
    """The CSRF token the brief defines: HMAC-SHA256 of the token's jti under the JWT secret."""
    jti = jwt.decode(session_token, options={"verify_signature": False})["jti"]
    return hmac.new(TEST_JWT_SECRET.encode(), f"csrf:{jti}".encode(), hashlib.sha256).hexdigest()


def csrf_of(page: httpx.Response) -> str:
    found = _META_CSRF.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def nonce_of(page: httpx.Response) -> str:
    found = _NONCE_FIELD.search(page.text)
    assert found, page.text[:2000]
    return html.unescape(found.group(1))


def next_field_of(page: httpx.Response) -> str:
    found = _NEXT_FIELD.search(page.text)
    assert found, page.text[:2000]
    return html.unescape(found.group(1))


def login_error_of(page: httpx.Response) -> str | None:
    found = _LOGIN_ERROR.search(page.text)
    return html.unescape(found.group(1)).strip() if found else None


def message_rows(page: httpx.Response) -> dict[int, str]:
    """The history table's rows: message id -> the row's text (tags kept, entities decoded)."""
    return {int(i): html.unescape(row) for i, row in _MESSAGE_ROW.findall(page.text)}


def element_text(page: httpx.Response, pattern: str) -> str:
    """The decoded inner text of the first match of ``pattern`` (a regex with one group)."""
    found = re.search(pattern, page.text, re.S)
    assert found, (pattern, page.text[:3000])
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def set_cookies(answer: httpx.Response, name: str) -> list[str]:
    """The response's Set-Cookie headers for ``name``."""
    return [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


def cookie_attributes(header: str) -> tuple[str, dict[str, str]]:
    """A Set-Cookie header as (value, {lower-case attribute: value})."""
    first, *rest = (part.strip() for part in header.split(";"))
    _, _, value = first.partition("=")
    attributes: dict[str, str] = {}
    for part in rest:
        key, _, attribute = part.partition("=")
        attributes[key.strip().lower()] = attribute.strip()
    return value.strip('"'), attributes


def clears(header: str) -> bool:
    """A Set-Cookie header that deletes its cookie: empty, and Max-Age=0 or already expired."""
    value, attributes = cookie_attributes(header)
    if value:
        return False
    if attributes.get("max-age") == "0":
        return True
    expires = attributes.get("expires")
    if expires:
        return parsedate_to_datetime(expires) <= datetime.now(UTC)
    return False


async def open_login_form(client: httpx.AsyncClient, next_path: str | None = None) -> str:
    """GET the login form; returns its nonce (its cookie is now in the client's jar)."""
    params = {"next": next_path} if next_path is not None else None
    form = await client.get(LOGIN, params=params)
    assert form.status_code == 200, form.text
    return nonce_of(form)


async def submit_login(
    client: httpx.AsyncClient,
    email: str,
    password: str = PASSWORD,
    next_path: str | None = None,
) -> httpx.Response:
    """The whole login as a browser does it: the form, then the POST with its nonce."""
    nonce = await open_login_form(client, next_path)
    fields = {"email": email, "password": password, "nonce": nonce}
    if next_path is not None:
        fields["next"] = next_path
    return await client.post(LOGIN, data=fields)


async def console_session(client: httpx.AsyncClient, email: str) -> str:
    """Log in through the console; returns the session's CSRF token, read from a page."""
    answer = await submit_login(client, email)
    assert answer.status_code == 303, answer.text
    assert client.cookies.get(SESSION), answer.headers
    page = await client.get("/console/templates")
    assert page.status_code == 200, page.text
    return csrf_of(page)


def only_session(client: httpx.AsyncClient, token: str) -> None:
    """Make ``token`` the only session cookie the client sends."""
    client.cookies.delete(SESSION)
    client.cookies.set(SESSION, token, domain="herald.test", path="/")


async def set_user(db: DatabaseUnderTest, user_id: int, **values: Any) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(update(User).where(User.id == user_id).values(**values))


async def set_message(db: DatabaseUnderTest, message_id: int, **values: Any) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(update(Message).where(Message.id == message_id).values(**values))


async def send_one(
    client: httpx.AsyncClient, auth: dict[str, str], template_id: int, number: str
) -> dict[str, Any]:
    answer = await client.post(
        f"{TEMPLATES_API}/{template_id}/send",
        json={"to": number, "country_code": "TN", "body_params": ["Sam", "ORD-1"]},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    message: dict[str, Any] = answer.json()["data"]["message"]
    return message


async def send_bulk(
    client: httpx.AsyncClient, auth: dict[str, str], template_id: int, numbers: list[str]
) -> str:
    answer = await client.post(
        f"{TEMPLATES_API}/{template_id}/send-bulk",
        json={
            "recipients": [
                {"to": n, "country_code": "TN", "body_params": ["Sam", "B"]} for n in numbers
            ]
        },
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["data"]["queued"] == len(numbers), answer.text
    group: str = answer.json()["data"]["whatsapp_bulk_group_id"]
    return group
