"""The README's walk-through against a real ``herald serve`` process over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import HERALD, herald_process
from tests.conftest import DatabaseUnderTest, assert_error

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(db: DatabaseUnderTest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    # The port as an operator sets it (the built-in emulator's address derives from it).
    env = {
        "HERALD_DATA_DIR": str(tmp_path),
        "HERALD_PORT": str(port),
        # Long enough for `herald templates reject` (a new process) to come first on a slow
        # machine; the walk-through waits for the first template's approval all the same.
        "HERALD_EMULATOR_APPROVE_AFTER_SECONDS": "8",
    }
    if db.kind == "postgresql":
        env["HERALD_DATABASE_URL"] = db.url
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [HERALD, "serve"],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "serve.log").read_text())
            time.sleep(0.1)
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_a_new_user_walks_through_the_foundation(
    served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, env = served
    created = herald_process(
        "users", "create", "ana@example.com", "--password", "s3cret-pass", "--api-access", env=env
    )
    assert created.returncode == 0, created.stderr
    with httpx.Client(base_url=base) as http:
        login = http.post(
            "/api/login_check", json={"username": "ana@example.com", "password": "s3cret-pass"}
        )
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['token']}"}

        sam = {"number": "21696816277", "country_code": "TN", "firstname": "Sam"}
        assert http.post("/api/contacts/", json=sam, headers=auth).status_code == 201
        assert_error(http.post("/api/contacts/", json=sam, headers=auth), 409, "contact_exists")
        body = assert_error(
            http.post("/api/contacts/", json={"firstname": "Jane"}, headers=auth),
            400,
            "validation_failed",
        )
        assert {e["field"] for e in body["data"]["errors"]} == {"number", "country_code"}  # type: ignore[index]

        listed = http.get("/api/contacts/?page=1&limit=20", headers=auth).json()["data"]
        assert [c["number"] for c in listed["items"]] == ["21696816277"]
        assert listed["pagination"] == {"page": 1, "limit": 20, "total": 1, "pages": 1}

        slashless = assert_error(
            http.post("/api/contacts", json=sam, headers=auth), 404, "route_not_found"
        )
        assert slashless["data"] == {"path": "/api/contacts/"}

        assert herald_process("users", "revoke-api", "ana@example.com", env=env).returncode == 0
        assert_error(http.get("/api/contacts/", headers=auth), 403, "api_access_disabled")

    logs = (tmp_path / "serve.log").read_text()
    assert "21696816277" not in logs
    assert "s3cret-pass" not in logs
    assert login.json()["token"] not in logs


def test_a_new_user_sends_a_template_on_the_builtin_emulator(
    served: tuple[str, dict[str, str]],
) -> None:
    """Issues 3 and 4 as a new user meets them: nothing but `herald serve` is running."""
    base, env = served
    assert (
        herald_process(
            "users",
            "create",
            "ana@example.com",
            "--password",
            "s3cret-pass",
            "--api-access",
            env=env,
        ).returncode
        == 0
    )
    assert "ana@example.com" not in herald_process("channels", "list", env=env).stdout
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post(
            "/api/login_check", json={"username": "ana@example.com", "password": "s3cret-pass"}
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = http.post(
            "/api/v2/whatsapp/templates",
            headers=auth,
            json={
                "name": "order_confirmed",
                "language": "en",
                "category": "UTILITY",
                "body": "Hello {{1}}, your order {{2}} is confirmed.",
            },
        )
        assert created.status_code == 201
        template = created.json()["data"]
        assert (template["state"], template["placeholder_count"]) == ("DRAFT", 2)
        submitted = http.post(f"/api/v2/whatsapp/templates/{template['id']}/submit", headers=auth)
        assert submitted.json()["data"]["state"] == "PENDING"
        # The server gave the new user a channel on its built-in emulator at the first submit.
        channels = herald_process("channels", "list", env=env)
        assert "ana@example.com" in channels.stdout
        assert "yes" in channels.stdout  # on the emulator
        _wait(
            lambda: (
                http.get(f"/api/v2/whatsapp/templates/{template['id']}", headers=auth).json()[
                    "data"
                ]["state"]
                == "APPROVED"
            )
        )

        pending = http.post(
            "/api/v2/whatsapp/templates",
            headers=auth,
            json={"name": "other", "language": "en", "category": "UTILITY", "body": "Hi {{1}}"},
        )
        other = pending.json()["data"]
        http.post(f"/api/v2/whatsapp/templates/{other['id']}/submit", headers=auth)
        refused = http.post(
            f"/api/v2/whatsapp/templates/{other['id']}/send",
            headers=auth,
            json={"to": "21696816277", "country_code": "TN", "body_params": ["Sam"]},
        )
        assert refused.json()["code"] == "template_not_approved"
        assert refused.json()["data"] == {"state": "PENDING"}
        assert (
            herald_process(
                "templates", "reject", str(other["id"]), "--reason", "TAG_CONTENT_MISMATCH", env=env
            ).returncode
            == 0
        )
        assert (
            http.get(f"/api/v2/whatsapp/templates/{other['id']}", headers=auth).json()["data"][
                "rejection_reason"
            ]
            == "TAG_CONTENT_MISMATCH"
        )

        one_param = http.post(
            f"/api/v2/whatsapp/templates/{template['id']}/send",
            headers=auth,
            json={"to": "21696816277", "country_code": "TN", "body_params": ["Sam"]},
        )
        assert one_param.json()["code"] == "body_params_mismatch"
        sent = http.post(
            f"/api/v2/whatsapp/templates/{template['id']}/send",
            headers=auth,
            json={
                "to": "21696816277",
                "country_code": "TN",
                "body_params": ["Sam", "ORD-2026-00041"],
            },
        )
        assert sent.status_code == 202
        group = sent.json()["data"]["whatsapp_bulk_group_id"]

        def read() -> bool:
            items = http.get(
                "/api/whatsapp/", params={"whatsapp_bulk_group_id": group}, headers=auth
            ).json()["data"]["items"]
            return bool(items and items[0]["state"] == "read")

        _wait(read)
        message = http.get(
            "/api/whatsapp/", params={"whatsapp_bulk_group_id": group}, headers=auth
        ).json()["data"]["items"][0]
        assert message["sent_date"]
        assert message["delivered_at"]
        assert message["read_at"]


def _wait(check: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time limit"
        time.sleep(0.1)
