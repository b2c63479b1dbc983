"""A full run of ``herald serve`` at debug level, then its whole log scanned for what must never
be logged: full phone numbers, template parameter values, tokens, passwords and secrets.

The run is driven over real HTTP like an integration would drive it: a user from the CLI, a
wrong password, a forged token, templates with placeholders approved by the built-in emulator,
a status callback to a receiver in this test, a media upload, single, v1, bulk and plugin
sends with distinctive parameter values, a number the emulator fails, an opt-out by API and
one by an inbound STOP. The scan only counts if the log holds real lines: it must be JSON
lines with the requests in it and masked numbers (``mask_digits``) where numbers were logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from herald.kit.phone import mask_digits, normalise
from tests.cli.helpers import HERALD, herald_process
from tests.conftest import DatabaseUnderTest
from tests.live import free_port

pytestmark = pytest.mark.e2e

EMAIL = "ana@example.com"
PASSWORD = "Ana-plaintext-Passw0rd-3141"
NEW_PASSWORD = "Ana-changed-Passw0rd-2718"
WRONG_PASSWORD = "Wrong-guess-Passw0rd-1618"
CALLBACK_SECRET = "whsec_log-scan-callback-secret-5577"
WRONG_KEY = "hk_not-a-key-of-anyone-0123456789abcdefghijklmno"
FORGERY_SECRET = "forger-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

# Every number the run uses (E.164 digits) and its country.
NUMBERS = {
    "single": ("21696816277", "TN"),
    "v1": ("21698765432", "TN"),
    "contact": ("4915123456789", "DE"),
    "bulk_1": ("33612345678", "FR"),
    "bulk_2": ("447400123456", "GB"),
    "failing": ("34612345678", "ES"),
    "media": ("393123456789", "IT"),
    "plugin": ("31612345678", "NL"),
    "opt_out": ("46701234567", "SE"),
    "stop": ("5511987654321", "BR"),
}
PARAMS = {
    "single": ["PARAM-SECRET-7731", "PARAM-ORDER-7732"],
    "v1": ["PARAM-V1-5521", "PARAM-V1-5522"],
    "contact": ["PARAM-CONTACT-6631", "PARAM-CONTACT-6632"],
    "bulk_1": ["PARAM-BULK-8841", "PARAM-BULK-8842"],
    "bulk_2": ["PARAM-BULK-8851", "PARAM-BULK-8852"],
    "failing": ["PARAM-FAIL-9951", "PARAM-FAIL-9952"],
    "media": ["PARAM-MEDIA-1161"],
    "plugin": ["PARAM-PLUGIN-2271", "PARAM-PLUGIN-2272"],
    "opt_out": ["PARAM-OPTED-3381", "PARAM-OPTED-3382"],
}
FAILED_CODE = 131026
RUN_TIMEOUT = 45.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Run:
    kind: str  # the database: sqlite (herald serve's default) or postgresql
    data_dir: Path
    log_files: list[Path]
    lines: list[str]
    needles: dict[str, set[str]] = field(default_factory=dict)
    callbacks: list[Received] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def hits(self, kind: str) -> list[str]:
        return [
            f"{needle!r} in line {number}: {line[:300]}"
            for needle in sorted(self.needles[kind])
            for number, line in enumerate(self.lines, 1)
            if needle in line
        ]


@pytest.fixture(scope="module")
async def clean_database(database: DatabaseUnderTest) -> DatabaseUnderTest:
    await database.clean()
    return database


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, list[Received]]]:
    """A status-callback receiver on a free loopback port, recording every delivery."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet: pytest output stays readable
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def wait_for(check: Callable[[], bool], what: str, deadline: float) -> None:
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the run's time limit: {what}")
        time.sleep(0.1)


def ok(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, (answer.request.url, answer.text)
    data: dict[str, Any] = answer.json().get("data")
    return data


def refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, (answer.request.url, answer.text)
    assert answer.json()["code"] == code, answer.text


@pytest.fixture(scope="module")
def run(
    clean_database: DatabaseUnderTest,
    tmp_path_factory: pytest.TempPathFactory,
    receiver: tuple[str, list[Received]],
) -> Run:
    data_dir = tmp_path_factory.mktemp("log-scan")
    port = free_port()
    env = {
        "HERALD_DATA_DIR": str(data_dir),
        "HERALD_PORT": str(port),
        "HERALD_LOG_LEVEL": "debug",
        "HERALD_LOG_FORMAT": "json",
        "HERALD_CALLBACKS_ALLOW_LOOPBACK": "true",
        "HERALD_EMULATOR_APPROVE_AFTER_SECONDS": "0.2",
        "HERALD_DISPATCH_POLL_SECONDS": "0.1",
        "HERALD_WEBHOOK_POLL_SECONDS": "0.1",
        "HERALD_CALLBACK_POLL_SECONDS": "0.1",
        "HERALD_PAIR_SPACING_SECONDS": "0",
    }
    if clean_database.kind == "postgresql":
        env["HERALD_DATABASE_URL"] = clean_database.url
    log_path = data_dir / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [HERALD, "serve"], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            started = time.monotonic() + 30
            while not _ready(base):
                if process.poll() is not None or time.monotonic() > started:
                    raise AssertionError("herald serve did not start:\n" + log_path.read_text())
                time.sleep(0.1)
            result = drive(base, env, data_dir, receiver)
            result.kind = clean_database.kind
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
    log_files = sorted(
        p for p in data_dir.rglob("*") if p.is_file() and (p.suffix == ".log" or "log" in p.parts)
    )
    lines = [line for path in log_files for line in path.read_text(errors="replace").splitlines()]
    result.log_files, result.lines = log_files, lines
    return result


def drive(
    base: str, env: dict[str, str], data_dir: Path, receiver: tuple[str, list[Received]]
) -> Run:
    deadline = time.monotonic() + RUN_TIMEOUT
    receiver_url, received = receiver
    received.clear()
    with httpx.Client(base_url=base, timeout=10) as http:
        created = herald_process(
            "users", "create", EMAIL, "--password", PASSWORD, "--api-access", env=env
        )
        assert created.returncode == 0, created.stderr

        refused(
            http.post("/api/login_check", json={"username": EMAIL, "password": WRONG_PASSWORD}),
            401,
            "invalid_credentials",
        )
        token = ok(
            http.post("/api/login_check", json={"username": EMAIL, "password": PASSWORD}), 200
        )["token"]
        auth = {"Authorization": f"Bearer {token}"}
        now = int(time.time())
        forged = jwt.encode(
            {"sub": "1", "iat": now, "exp": now + 3600, "jti": "f" * 32}, FORGERY_SECRET
        )
        refused(
            http.get("/api/user/", headers={"Authorization": f"Bearer {forged}"}),
            401,
            "token_invalid",
        )

        # Templates with placeholders, one with a document header (the PDF is its sample, and
        # later its header file); the emulator approves them.
        media = ok(
            http.post(
                "/api/v2/whatsapp/media",
                files={"file": ("invoice.pdf", b"%PDF-1.7\n" + b"%" * 2048, "application/pdf")},
                headers=auth,
            ),
            201,
        )["media_id"]
        order = ok(
            http.post(
                "/api/v2/whatsapp/templates",
                json={
                    "name": "order_confirmed",
                    "language": "en",
                    "category": "UTILITY",
                    "body": "Hello {{1}}, your order {{2}} is confirmed.",
                },
                headers=auth,
            ),
            201,
        )["id"]
        invoice = ok(
            http.post(
                "/api/v2/whatsapp/templates",
                json={
                    "name": "invoice_ready",
                    "language": "en",
                    "category": "UTILITY",
                    "header": {"format": "DOCUMENT", "example_media_id": media},
                    "body": "Your invoice {{1}} is attached.",
                },
                headers=auth,
            ),
            201,
        )["id"]
        for template_id in (order, invoice):
            ok(http.post(f"/api/v2/whatsapp/templates/{template_id}/submit", headers=auth), 200)

        def approved() -> bool:
            states = {
                http.get(f"/api/v2/whatsapp/templates/{t}", headers=auth).json()["data"]["state"]
                for t in (order, invoice)
            }
            return states == {"APPROVED"}

        wait_for(approved, "both templates approved", deadline)

        configured = http.patch(
            "/emulator/_emulator/config",
            json={"failing_numbers": {NUMBERS["failing"][0]: FAILED_CODE}},
        )
        assert configured.status_code == 200, configured.text
        callback = ok(
            http.post(
                "/api/v2/webhooks",
                json={"url": f"{receiver_url}/hook", "secret": CALLBACK_SECRET},
                headers=auth,
            ),
            201,
        )
        assert callback["secret"] == CALLBACK_SECRET
        contact = ok(
            http.post(
                "/api/contacts/",
                json={
                    "number": NUMBERS["contact"][0],
                    "country_code": NUMBERS["contact"][1],
                    "firstname": "Samira",
                },
                headers=auth,
            ),
            201,
        )["id"]
        key = ok(
            http.post(
                "/api/v2/secret-keys",
                json={
                    "platform_type": "woocommerce",
                    "base_uri": "https://shop.example.com",
                    "name": "Shop",
                },
                headers=auth,
            ),
            201,
        )["secret_key"]
        plugin = {
            "x-api-key": key,
            "x-platform-type": "woocommerce",
            "x-base-uri": "https://shop.example.com",
        }

        def to(name: str, **extra: Any) -> dict[str, Any]:
            number, country = NUMBERS[name]
            return {"to": number, "country_code": country, "body_params": PARAMS[name], **extra}

        send = f"/api/v2/whatsapp/templates/{order}/send"
        ok(http.post(send, json=to("single"), headers=auth), 202)
        ok(http.post(send, json=to("failing"), headers=auth), 202)
        ok(
            http.post(
                "/api/whatsapp/",
                json={
                    "template_id": order,
                    "phone_number": NUMBERS["v1"][0],
                    "country_code": NUMBERS["v1"][1],
                    "body_params": PARAMS["v1"],
                },
                headers=auth,
            ),
            202,
        )
        ok(
            http.post(
                f"/api/whatsapp/templates/{order}/send/",
                json={"contact_id": contact, "body_params": PARAMS["contact"]},
                headers=auth,
            ),
            202,
        )
        bulk = ok(
            http.post(
                f"/api/v2/whatsapp/templates/{order}/send-bulk",
                json={"recipients": [to("bulk_1"), to("bulk_2")]},
                headers=auth,
            ),
            202,
        )
        assert bulk["queued"] == 2
        ok(
            http.post(
                f"/api/v2/whatsapp/templates/{invoice}/send",
                json=to("media", header_media_id=media),
                headers=auth,
            ),
            202,
        )
        # A shop plugin: its key reads the profile and sends; a wrong key is refused.
        assert ok(http.get("/api/user/", headers=plugin), 200)["email"] == EMAIL
        ok(http.post(send, json=to("plugin"), headers=plugin), 202)
        refused(
            http.get("/api/user/", headers={**plugin, "x-api-key": WRONG_KEY}),
            401,
            "api_key_invalid",
        )
        # An opt-out by API, then a send to that number.
        number, country = NUMBERS["opt_out"]
        ok(
            http.post(
                "/api/v2/opt-outs", json={"number": number, "country_code": country}, headers=auth
            ),
            201,
        )
        refused(http.post(send, json=to("opt_out"), headers=auth), 409, "recipient_opted_out")
        # Numbers in a query string and in a mistyped path (a common client slip): the access
        # log never has the query, and masks the path.
        history = http.get("/api/whatsapp/", params={"phone_number": number}, headers=auth)
        assert history.status_code == 200, history.text
        refused(http.delete(f"/api/v2/opt-outs/{number}/", headers=auth), 404, "route_not_found")

        def finished() -> bool:
            items = http.get("/api/whatsapp/", params={"limit": 100}, headers=auth).json()["data"][
                "items"
            ]
            return len(items) == 8 and all(m["state"] in ("read", "failed") for m in items)

        wait_for(finished, "every message read or failed", deadline)
        messages = http.get("/api/whatsapp/", params={"limit": 100}, headers=auth).json()["data"][
            "items"
        ]

        # A customer answers STOP to the business number.
        sent = http.get("/emulator/_emulator/messages").json()
        templates = http.get("/emulator/_emulator/templates").json()
        inbound = http.post(
            "/emulator/_emulator/inbound",
            json={
                "waba_id": templates[0]["waba_id"],
                "phone_number_id": sent[0]["phone_number_id"],
                "from": NUMBERS["stop"][0],
                "text": "STOP",
            },
        )
        assert inbound.status_code == 200, inbound.text

        def stopped() -> bool:
            items = http.get("/api/v2/opt-outs", headers=auth).json()["data"]["items"]
            return NUMBERS["stop"][0] in {i["number"] for i in items}

        wait_for(stopped, "the STOP reply put the number on the opt-out list", deadline)

        finals = {(m["id"], m["state"]) for m in messages}

        def delivered() -> bool:
            bodies = [json.loads(r.body) for r in list(received)]
            # The callback takes every event: the STOP reply's message.received too.
            seen = {
                (b["data"]["id"], b["data"]["state"])
                for b in bodies
                if b["type"] == "message.status"
            }
            return finals <= seen

        wait_for(delivered, "a callback for every final state", deadline)

        # Last: a password change, and a login with the new password.
        ok(
            http.put(
                "/api/user/",
                json={"password": NEW_PASSWORD, "current_password": PASSWORD},
                headers=auth,
            ),
            200,
        )
        new_token = ok(
            http.post("/api/login_check", json={"username": EMAIL, "password": NEW_PASSWORD}), 200
        )["token"]
        refused(http.get("/api/user/", headers=auth), 401, "token_invalid")

    secrets_dir = data_dir / "secrets"
    kept = {p.name: p.read_text().strip() for p in secrets_dir.iterdir()}
    for name in ("encryption_key", "jwt_secret", "emulator_access_token", "emulator_app_secret"):
        assert kept.get(name), f"{name} missing from {secrets_dir}"
    tokens = {token, new_token, forged}
    numbers = {n for n, _ in NUMBERS.values()}
    return Run(
        kind="",
        data_dir=data_dir,
        log_files=[],
        lines=[],
        needles={
            "a full phone number": numbers | {"+" + n for n in numbers},
            "a parameter value": {p for values in PARAMS.values() for p in values},
            "a token": tokens | {t.rsplit(".", 1)[1] for t in tokens},
            "a password": {PASSWORD, NEW_PASSWORD, WRONG_PASSWORD},
            "a password hash": {"$argon2id$"},
            "a secret": {key, WRONG_KEY, key.removeprefix("hk_"), CALLBACK_SECRET, FORGERY_SECRET}
            | set(kept.values()),
        },
        callbacks=list(received),
        messages=messages,
    )


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz").status_code == 200
    except httpx.TransportError:
        return False


# --- what the run did (so the scan below means something) ------------------------------------


def test_the_numbers_used_are_valid_for_their_countries() -> None:
    for number, country in NUMBERS.values():
        assert normalise(number, country).digits == number


def test_the_run_went_through_every_path(run: Run) -> None:
    states = sorted(m["state"] for m in run.messages)
    assert states == ["failed"] + ["read"] * 7
    failed = next(m for m in run.messages if m["state"] == "failed")
    assert failed["phone_number"] == NUMBERS["failing"][0]
    assert failed["error"]["code"] == str(FAILED_CODE)
    # Every callback is signed with the registered secret over the raw body.
    assert run.callbacks
    for delivery in run.callbacks:
        expected = hmac.new(CALLBACK_SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers["X-Herald-Signature"] == f"sha256={expected}"


def test_the_log_holds_real_lines(run: Run) -> None:
    assert [p.name for p in run.log_files] == ["serve.log"]
    assert len(run.lines) > 30, "\n".join(run.lines)
    events = []
    for line in run.lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    assert len(events) > 0.9 * len(run.lines), "the log is not the JSON lines configured"
    requests = [e for e in events if e.get("event") == "http.request"]
    routes = {(e["method"], e["route"], e["status"]) for e in requests}
    for expected in (
        ("POST", "/api/login_check", 401),
        ("POST", "/api/login_check", 200),
        ("GET", "/api/user/", 401),
        ("POST", "/api/v2/whatsapp/templates/{template_id}/send", 202),
        ("POST", "/api/v2/whatsapp/templates/{template_id}/send-bulk", 202),
        ("POST", "/api/whatsapp/", 202),
        ("POST", "/api/v2/whatsapp/media", 201),
        ("POST", "/webhooks/whatsapp", 200),
    ):
        assert expected in routes, (expected, sorted(routes))
    assert any(e.get("level") == "debug" for e in events), "debug level was not in effect"
    # The mistyped path was logged, with its number masked: the scan saw lines with numbers.
    masked = f"/api/v2/opt-outs/{mask_digits(NUMBERS['opt_out'][0])}/"
    assert masked == "/api/v2/opt-outs/467012****67/"
    assert any(e.get("route") == masked and e.get("status") == 404 for e in requests), (
        "no request line with a masked number: the scan did not see lines that carry numbers"
    )


# --- the scan ---------------------------------------------------------------------------------


def test_no_full_phone_number_is_logged(run: Run) -> None:
    hits = run.hits("a full phone number")
    assert not hits, "\n".join(hits)


def test_no_template_parameter_value_is_logged(run: Run) -> None:
    hits = run.hits("a parameter value")
    assert not hits, "\n".join(hits)


def test_no_token_is_logged(run: Run) -> None:
    hits = run.hits("a token")
    assert not hits, "\n".join(hits)


def test_no_password_is_logged(run: Run) -> None:
    hits = run.hits("a password")
    assert not hits, "\n".join(hits)


def test_no_password_hash_is_logged(run: Run) -> None:
    hits = run.hits("a password hash")
    assert not hits, "\n".join(hits)


def test_no_secret_is_logged(run: Run) -> None:
    hits = run.hits("a secret")
    assert not hits, "\n".join(hits)
