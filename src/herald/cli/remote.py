"""Talking to a running Herald over its HTTP API, as an integrator's scripts would: the URL and
credentials come from options or the environment, never from Herald's own settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from herald.cli.common import (
    EXIT_CONFIG,
    EXIT_CONFLICT,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    fail,
)

if TYPE_CHECKING:
    import httpx

Url = Annotated[str, typer.Option(envvar="HERALD_URL", help="Herald's address.")]
Email = Annotated[str | None, typer.Option(envvar="HERALD_EMAIL", help="Log in as this user.")]
Password = Annotated[
    str | None, typer.Option(envvar="HERALD_PASSWORD", help="Password for --email.")
]
Token = Annotated[str | None, typer.Option(envvar="HERALD_TOKEN", help="A login token instead.")]
DEFAULT_URL = "http://127.0.0.1:8080"

# What to do about the API's errors that the command line can help with, by JSend ``code``.
HINTS = {
    "invalid_credentials": "Check --email and --password (HERALD_EMAIL, HERALD_PASSWORD).",
    "token_expired": "Tokens last an hour: get a new one, or log in with --email/--password.",
    "token_invalid": "Get a new token, or log in with --email/--password.",
    "api_access_disabled": "An operator grants it: `herald users grant-api EMAIL`.",
    "template_not_approved": "Submit it (`herald templates submit ID`) and wait for approval "
    "(`herald templates wait ID`).",
    "invalid_state": "Only a DRAFT or REJECTED template can be submitted.",
    "media_not_found": "Upload the file first: `herald media upload FILE` prints its id.",
    "idempotency_conflict": "This key was used with another request in the last 24 h: use a "
    "new key, or send exactly the same request.",
    "rate_limited": "Too many requests a second for this user: try again in a moment.",
}


@dataclass
class Credentials:
    url: str
    email: str | None
    password: str | None
    token: str | None


def _fail_with(answer: httpx.Response, line_of: Callable[[int], int] = lambda i: i + 2) -> NoReturn:
    """End the command with the API's error. ``line_of`` turns a bulk send's recipient index
    into the line of the CSV file it came from."""
    try:
        body = answer.json()
        code, message, data = body["code"], body["message"], body.get("data")
    except (ValueError, KeyError, TypeError):
        fail(f"Herald answered HTTP {answer.status_code} without a JSend body.", EXIT_REFUSED)
    detail = ""
    if isinstance(data, dict) and data.get("errors"):
        detail = " (" + "; ".join(f"{e['field']}: {e['message']}" for e in data["errors"]) + ")"
    if isinstance(data, dict) and data.get("rejected"):  # a bulk send: name the first rows
        shown = data["rejected"][:10]
        detail = " (" + "; ".join(f"row {line_of(r['index'])}: {r['code']}" for r in shown) + ")"
    exit_code = {404: EXIT_NOT_FOUND, 409: EXIT_CONFLICT}.get(answer.status_code)
    if exit_code is None:
        exit_code = EXIT_INVALID if answer.status_code in (400, 413, 415) else EXIT_REFUSED
    hint = f" {HINTS[code]}" if code in HINTS else ""
    fail(f"{code}: {message}{detail}{hint}", exit_code, code, data)


class Remote:
    def __init__(self, credentials: Credentials, timeout: float = 60) -> None:
        import httpx

        self.http = httpx.Client(base_url=credentials.url.rstrip("/"), timeout=timeout)
        self.credentials = credentials
        self._headers: dict[str, str] | None = None

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def headers(self) -> dict[str, str]:
        if self._headers is None:
            token = self.credentials.token or self._login()
            self._headers = {"Authorization": f"Bearer {token}"}
        return self._headers

    def _login(self) -> str:
        email, password = self.credentials.email, self.credentials.password
        if not email or not password:
            fail(
                "give --email and --password (or HERALD_EMAIL and HERALD_PASSWORD), or --token",
                EXIT_CONFIG,
            )
        answer = self.request_raw(
            "POST", "/api/login_check", json={"username": email, "password": password}
        )
        if answer.status_code != 200:
            _fail_with(answer)
        token: str = answer.json()["data"]["token"]
        return token

    def request_raw(self, method: str, path: str, **options: Any) -> httpx.Response:
        import httpx

        try:
            return self.http.request(method, path, **options)
        except httpx.TransportError as exc:
            fail(
                f"cannot reach Herald at {self.http.base_url} ({exc}). Is it running? Give its "
                "address with --url or HERALD_URL.",
                EXIT_UNREACHABLE,
            )

    def request(
        self,
        method: str,
        path: str,
        line_of: Callable[[int], int] = lambda i: i + 2,
        **options: Any,
    ) -> Any:
        """The answer's ``data``; any error ends the command with the API's code and message."""
        headers = {**self.headers(), **options.pop("headers", {})}
        answer = self.request_raw(method, path, headers=headers, **options)
        if not answer.is_success:
            _fail_with(answer, line_of)
        return answer.json()["data"]

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        line_of: Callable[[int], int] = lambda i: i + 2,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", path, line_of, json=body, headers=headers)

    def upload(self, path: str, file: Path) -> Any:
        """Send ``file`` as the multipart field ``file``, streamed from disk."""
        try:
            with file.open("rb") as content:
                return self.request("POST", path, files={"file": (file.name, content)})
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror or exc}", EXIT_INVALID)
