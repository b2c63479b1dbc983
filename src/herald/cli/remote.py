"""Talking to a running Herald over its HTTP API, as an integrator's scripts would: the URL and
credentials come from options or the environment, never from Herald's own settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import httpx
import typer

from herald.cli.common import EXIT_CONFIG, EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_FOUND, fail

EXIT_UNREACHABLE = 7
EXIT_REFUSED = 8  # authentication, API access, rate limit or server error

Url = Annotated[str, typer.Option(envvar="HERALD_URL", help="Herald's address.")]
Email = Annotated[str | None, typer.Option(envvar="HERALD_EMAIL", help="Log in as this user.")]
Password = Annotated[
    str | None, typer.Option(envvar="HERALD_PASSWORD", help="Password for --email.")
]
Token = Annotated[str | None, typer.Option(envvar="HERALD_TOKEN", help="A login token instead.")]


@dataclass
class Credentials:
    url: str
    email: str | None
    password: str | None
    token: str | None


def _fail_with(answer: httpx.Response) -> NoReturn:
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
        detail = " (" + "; ".join(f"row {r['index'] + 2}: {r['code']}" for r in shown) + ")"
    exit_code = {404: EXIT_NOT_FOUND, 409: EXIT_CONFLICT}.get(answer.status_code)
    if exit_code is None:
        exit_code = EXIT_INVALID if answer.status_code in (400, 413, 415) else EXIT_REFUSED
    fail(f"{code}: {message}{detail}", exit_code)


class Remote:
    def __init__(self, credentials: Credentials, timeout: float = 60) -> None:
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
        try:
            return self.http.request(method, path, **options)
        except httpx.TransportError as exc:
            fail(f"cannot reach Herald at {self.http.base_url}: {exc}", EXIT_UNREACHABLE)

    def post(self, path: str, body: dict[str, Any], idempotency_key: str | None = None) -> Any:
        headers = {
            **self.headers(),
            **({"Idempotency-Key": idempotency_key} if idempotency_key else {}),
        }
        answer = self.request_raw("POST", path, json=body, headers=headers)
        if not answer.is_success:
            _fail_with(answer)
        return answer.json()["data"]
