"""A request uvicorn's HTTP parser refuses gets Herald's JSend 400 from the real ``herald api``,
over a raw socket (no HTTP client would send these)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.cli.helpers import HERALD
from tests.conftest import TEST_JWT_SECRET, DatabaseUnderTest
from tests.live import free_port


@pytest.fixture(scope="module")
def api_port(
    database: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """``herald api`` on a port of its own, answering (one for the module: it only parses)."""
    db, tmp_path = database, tmp_path_factory.mktemp("api")
    port = free_port()
    env = {
        **os.environ,
        "HERALD_DATABASE_URL": db.url,
        "HERALD_DATA_DIR": str(tmp_path),
        "HERALD_JWT_SECRET": TEST_JWT_SECRET,
        "HERALD_LOG_LEVEL": "warning",
    }
    log = tmp_path / "api.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [HERALD, "api", "--port", str(port)], env=env, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(log.read_text())
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` as is and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            b"GET /healthz HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n", id="space-in-name"
        ),
        pytest.param(
            b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Note: a\x01b\r\n\r\n", id="control-char"
        ),
        pytest.param(b"GET /healthz HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n", id="no-colon"),
        pytest.param(b"GET /healthz HTTP/9.9\r\nHost: h\r\n\r\n", id="bad-version"),
    ],
)
def test_malformed_requests_get_a_jsend_400(api_port: int, request_bytes: bytes) -> None:
    head, _, body = exchange(api_port, request_bytes).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 400 Bad Request"
    headers = dict(line.lower().split(b": ", 1) for line in lines[1:])
    assert headers[b"content-type"] == b"application/json"
    assert int(headers[b"content-length"]) == len(body)
    assert headers[b"connection"] == b"close"
    assert orjson.loads(body) == {
        "status": "error",
        "message": "The HTTP request is malformed: its request line or a header is not valid.",
        "code": "malformed_request",
        "data": [],
    }


def test_a_well_formed_request_is_served_as_before(api_port: int) -> None:
    answer = exchange(api_port, b"GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert orjson.loads(body)["status"] == "success"
