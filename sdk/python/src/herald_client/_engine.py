"""How a call runs, written once for both clients as a generator ("sans I/O").

``Engine.perform(call)`` yields ``Send`` and ``Sleep`` effects and is resumed with their results;
the sync client answers them with ``httpx.Client`` and ``time.sleep``, the async client with
``httpx.AsyncClient`` and ``asyncio.sleep``. Credentials, lazy login and re-login, retries and
response parsing all live here, so the two clients cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

import httpx

from herald_client._call import Call, Effect, Reply, RequestSpec, Send, Sleep
from herald_client._envelope import parse_object, read_envelope
from herald_client._retry import RetryPolicy
from herald_client.errors import HeraldApiError
from herald_client.models import LoginToken

T = TypeVar("T")
Flow: TypeAlias = Generator[Effect, Reply, T]

LOGIN_PATH = "/api/login_check"
# Log in again this long before the token expires, so that a request never leaves with a token
# that dies on the way (clock skew, slow networks, retries waiting out a 429).
REFRESH_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class PasswordLogin:
    email: str
    password: str


@dataclass(frozen=True)
class PluginKey:
    api_key: str
    platform_type: str
    base_uri: str

    def headers(self) -> dict[str, str]:
        return {
            "x-api-key": self.api_key,
            "x-platform-type": self.platform_type,
            "x-base-uri": self.base_uri,
        }


Credentials: TypeAlias = PasswordLogin | PluginKey


def credentials_from(
    email: str | None,
    password: str | None,
    api_key: str | None,
    platform_type: str | None,
    base_uri: str | None,
) -> Credentials:
    """Exactly one mode: ``email`` + ``password`` (JWT), or the three plugin-key values."""
    login = (email, password)
    plugin = (api_key, platform_type, base_uri)
    if all(login) and not any(plugin):
        return PasswordLogin(str(email), str(password))
    if all(plugin) and not any(login):
        return PluginKey(str(api_key), str(platform_type), str(base_uri))
    raise ValueError(
        "give either email and password, or api_key, platform_type and base_uri (not both)"
    )


def login_call(credentials: PasswordLogin) -> Call[LoginToken]:
    return Call(
        "POST",
        LOGIN_PATH,
        parse_object,
        json={"username": credentials.email, "password": credentials.password},
        authenticated=False,
    )


class Engine:
    """The state of one client (credentials, token) and the flow of each call."""

    def __init__(
        self, credentials: Credentials, retry: RetryPolicy, clock: Callable[[], float]
    ) -> None:
        self._credentials = credentials
        self._retry = retry
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at = 0.0

    def perform(self, call: Call[T]) -> Flow[T]:
        """Authenticate if needed, send, retry 429/503, re-login once on ``token_expired``."""
        with ExitStack() as stack:
            file = stack.enter_context(call.upload.open()) if call.upload else None
            retries = 0
            logged_in_again = False
            while True:
                auth = (yield from self._auth_headers()) if call.authenticated else {}
                response = yield from _send(call.request(auth, file))
                try:
                    data = read_envelope(response)
                except HeraldApiError as error:
                    if not logged_in_again and self._token_expired(call, error):
                        logged_in_again = True
                        self._token = None
                        continue
                    delay = self._retry.delay(error, retries)
                    if delay is None:
                        raise
                    retries += 1
                    yield Sleep(delay)
                    continue
                result = call.parse(data)
                if call.new_password is not None:
                    self._password_changed(call.new_password)
                return result

    def needs_login(self) -> bool:
        """Whether the next authenticated call would log in first (no token, or one about to
        expire). The clients log in once for calls that start together, under a lock, rather
        than once per call: a login is a password hash on the server."""
        return isinstance(self._credentials, PasswordLogin) and (
            self._token is None or self._clock() >= self._token_expires_at - REFRESH_MARGIN_SECONDS
        )

    def login(self) -> Flow[None]:
        credentials = self._credentials
        assert isinstance(credentials, PasswordLogin)
        asked_at = self._clock()  # the token's lifetime starts no later than the request
        token = yield from self.perform(login_call(credentials))
        self._token = token["token"]
        self._token_expires_at = asked_at + token["expires_in"]

    def _auth_headers(self) -> Flow[Mapping[str, str]]:
        credentials = self._credentials
        if isinstance(credentials, PluginKey):
            return credentials.headers()
        if self.needs_login():
            yield from self.login()
        return {"Authorization": f"Bearer {self._token}"}

    def _token_expired(self, call: Call[T], error: HeraldApiError) -> bool:
        # Only a token this client obtained can be renewed; plugin keys never expire.
        return (
            call.authenticated
            and isinstance(self._credentials, PasswordLogin)
            and error.status == 401
            and error.code == "token_expired"
        )

    def _password_changed(self, password: str) -> None:
        if isinstance(self._credentials, PasswordLogin):
            self._credentials = PasswordLogin(self._credentials.email, password)
            self._token = None  # Herald revoked it with the change


def _send(request: RequestSpec) -> Flow[httpx.Response]:
    reply = yield Send(request)
    if not isinstance(reply, httpx.Response):
        raise TypeError(f"a Send effect must be answered with an httpx.Response, not {reply!r}")
    return reply
