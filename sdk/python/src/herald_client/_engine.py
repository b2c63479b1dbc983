"""How a call runs, written once for both clients as a generator ("sans I/O").

``Engine.perform(call)`` yields ``Send`` and ``Sleep`` effects and is resumed with their results;
the sync client answers them with ``httpx.Client`` and ``time.sleep``, the async client with
``httpx.AsyncClient`` and ``asyncio.sleep``. Credentials, lazy login and re-login, retries and
response parsing all live here, so the two clients cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

import httpx

from herald_client._call import Call, Effect, Reply, RequestSpec, Send, Sleep
from herald_client._envelope import parse_object, read_envelope
from herald_client._retry import RetryPolicy
from herald_client.errors import HeraldApiError, HeraldConnectionError
from herald_client.models import LoginToken

T = TypeVar("T")
Flow: TypeAlias = Generator[Effect, Reply, T]

LOGIN_PATH = "/api/login_check"
# Log in again a tenth of the token's lifetime before it expires, and at most a minute before,
# so that a request never leaves with a token that dies on the way (clock skew, slow networks,
# retries waiting out a 429). A fixed minute would log in before every call at Herald's
# shortest lifetime (60 s); a tenth keeps that to one login a minute.
REFRESH_MARGIN_SECONDS = 60.0
REFRESH_MARGIN_SHARE = 0.1


def refresh_margin(lifetime: float) -> float:
    return min(REFRESH_MARGIN_SECONDS, lifetime * REFRESH_MARGIN_SHARE)


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


@dataclass(frozen=True)
class TokenOnly:
    """A token obtained elsewhere, with nothing to log in again with once it expires."""


Credentials: TypeAlias = PasswordLogin | PluginKey | TokenOnly


def credentials_from(
    email: str | None,
    password: str | None,
    api_key: str | None,
    platform_type: str | None,
    base_uri: str | None,
    token: str | None,
) -> Credentials:
    """Exactly one mode: ``email`` + ``password`` (JWT; ``token`` to start from, optional),
    ``token`` alone, or the three plugin-key values."""
    login = (email, password)
    plugin = (api_key, platform_type, base_uri)
    if all(login) and not any(plugin):
        return PasswordLogin(str(email), str(password))
    if all(plugin) and not any(login) and not token:
        return PluginKey(str(api_key), str(platform_type), str(base_uri))
    if token and not any(login) and not any(plugin):
        return TokenOnly()
    raise ValueError(
        "give either email and password (and a token to start from, if you have one), "
        "a token alone, or api_key, platform_type and base_uri"
    )


def login_call(credentials: PasswordLogin) -> Call[LoginToken]:
    return Call(
        "POST",
        LOGIN_PATH,
        parse_object,
        json={"username": credentials.email, "password": credentials.password},
        authenticated=False,
        harmless_twice=True,  # a second token, the first simply unused
    )


class Engine:
    """The state of one client (credentials, token) and the flow of each call."""

    def __init__(
        self,
        credentials: Credentials,
        retry: RetryPolicy,
        clock: Callable[[], float],
        token: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._retry = retry
        self._clock = clock
        self._token = token
        # A given token's lifetime is unknown: it is used until Herald says ``token_expired``.
        self._refresh_at = math.inf if token else 0.0

    def perform(self, call: Call[T]) -> Flow[T]:
        """Authenticate if needed, send, retry 429/503 (and a lost connection when repeating is
        safe), re-login once on ``token_expired``."""
        with ExitStack() as stack:
            file = stack.enter_context(call.upload.open()) if call.upload else None
            retries = 0
            logged_in_again = False
            while True:
                auth = (yield from self._auth_headers()) if call.authenticated else {}
                try:
                    response = yield from _send(call.request(auth, file))
                except HeraldConnectionError as lost:
                    safe = call.repeatable or not lost.sent
                    delay = self._retry.connection_delay(retries) if safe else None
                    if delay is None:
                        raise
                    retries += 1
                    yield Sleep(delay)
                    continue
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
            self._token is None or self._clock() >= self._refresh_at
        )

    def login(self) -> Flow[None]:
        credentials = self._credentials
        assert isinstance(credentials, PasswordLogin)
        asked_at = self._clock()  # the token's lifetime starts no later than the request
        token = yield from self.perform(login_call(credentials))
        lifetime = float(token["expires_in"])
        self._token = token["token"]
        self._refresh_at = asked_at + lifetime - refresh_margin(lifetime)

    @property
    def token(self) -> str | None:
        return self._token

    def _auth_headers(self) -> Flow[Mapping[str, str]]:
        credentials = self._credentials
        if isinstance(credentials, PluginKey):
            return credentials.headers()
        if self.needs_login():
            yield from self.login()
        return {"Authorization": f"Bearer {self._token}"}

    def _token_expired(self, call: Call[T], error: HeraldApiError) -> bool:
        # Only a password renews a token; plugin keys never expire.
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


# Failures while connecting: the request never left, so any call may be repeated.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def connection_error(exc: httpx.RequestError) -> HeraldConnectionError:
    """What the drivers throw into the flow when the transport fails."""
    sent = not isinstance(exc, _NEVER_SENT)
    return HeraldConnectionError(f"{type(exc).__name__}: {exc}", sent=sent)


def _send(request: RequestSpec) -> Flow[httpx.Response]:
    reply = yield Send(request)
    if not isinstance(reply, httpx.Response):
        raise TypeError(f"a Send effect must be answered with an httpx.Response, not {reply!r}")
    return reply
