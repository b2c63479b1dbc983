"""``herald serve``, ``api`` and ``worker`` that cannot run end at once with exit 5 (docs/cli.md),
before any loop starts: the database unreachable, missing or empty, the port taken."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from herald.cli.main import _listening_socket
from tests.cli.helpers import herald_process
from tests.conftest import DatabaseUnderTest, postgres_url

EXIT_CONFIG = 5


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def missing_postgres_database() -> str:
    return (
        make_url(postgres_url())
        .set(database=f"herald_missing_{uuid.uuid4().hex[:8]}")
        .render_as_string(hide_password=False)
    )


@pytest.mark.parametrize("command", [["worker"], ["api", "--port", "0"]])
def test_a_missing_sqlite_database_is_not_created_but_exit_5(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "nowhere.db"
    done = herald_process(*command, env={"HERALD_DATABASE_URL": f"sqlite:///{path}"}, timeout=30)
    assert done.returncode == EXIT_CONFIG, done.stderr
    assert f"no database at {path}: run `herald db upgrade` first" in done.stderr
    assert not path.exists()


@pytest.mark.parametrize("command", [["worker"], ["api", "--port", "0"]])
def test_an_empty_database_exits_5(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    done = herald_process(*command, env={"HERALD_DATABASE_URL": f"sqlite:///{path}"}, timeout=30)
    assert done.returncode == EXIT_CONFIG, done.stderr
    assert "has no Herald tables: run `herald db upgrade` first" in done.stderr


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql://herald:pw-never-shown@127.0.0.1:1/herald", id="unreachable"),
        pytest.param(None, id="no-such-database"),
    ],
)
@pytest.mark.parametrize("command", [["worker"], ["api", "--port", "0"], ["serve", "--port", "0"]])
def test_an_unusable_postgresql_exits_5(
    tmp_path: Path, url: str | None, command: list[str]
) -> None:
    database_url = url or missing_postgres_database()
    done = herald_process(
        *command, env={"HERALD_DATABASE_URL": database_url, "HERALD_DATA_DIR": str(tmp_path)}
    )
    assert done.returncode == EXIT_CONFIG, done.stderr
    assert "cannot use the database at postgresql" in done.stderr
    assert "pw-never-shown" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["serve", "api"])
def test_a_taken_port_exits_5_before_anything_starts(
    db: DatabaseUnderTest, tmp_path: Path, taken_port: int, command: str
) -> None:
    env = {"HERALD_DATA_DIR": str(tmp_path), "HERALD_LOG_LEVEL": "info"}
    if command == "api":
        env["HERALD_DATABASE_URL"] = db.url
    done = herald_process(command, "--port", str(taken_port), env=env, timeout=30)
    assert done.returncode == EXIT_CONFIG, done.stderr
    assert f"cannot listen on 127.0.0.1:{taken_port}: Address already in use" in done.stderr
    # Nothing ran: serve did not even migrate (its SQLite file is made by the migration), and
    # no loop, lifespan or server logged a start.
    assert not (tmp_path / "herald.db").exists()
    assert done.stdout == ""


async def test_the_served_sockets_connections_send_without_waiting_for_acks() -> None:
    """Nagle off on every connection the server accepts, whichever event loop runs it: a
    response goes out in two writes (head, then body), and with Nagle on the body waited for
    the client's delayed ACK, 40 ms a request on asyncio's loop."""
    listening = _listening_socket("127.0.0.1", 0)
    accepted: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()
    server = await asyncio.start_server(
        lambda _reader, writer: accepted.set_result(writer), sock=listening
    )
    async with server:
        _, client = await asyncio.open_connection(*listening.getsockname())
        connection = (await accepted).get_extra_info("socket")
        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        client.close()
        (await accepted).close()
