"""The emulator's memory on disk: what Meta would still know after a restart of either side.

One SQLite file (the standard library's ``sqlite3``), two tables: ``objects`` holds every
remembered object as a JSON document under (kind, id) (templates with their review, media,
upload sessions and their handles, phone numbers, knobs: a field someone adds to a template or
an upload is kept with no schema change), and ``webhooks`` holds every webhook not yet
delivered, with when it is due.

Why SQLite rather than a JSON file rewritten through a temporary file and a rename: the webhook
queue changes at the send rate (three statuses a send), and a rename scheme rewrites the whole
file for each change, where SQLite writes only the rows that changed; and its journal makes
every commit atomic, so a SIGKILL in the middle of a write leaves the previous commit whole.
WAL with ``synchronous=NORMAL``: a commit is on disk as far as the process is concerned (a
SIGKILL or an OOM kill loses nothing committed); only a power cut may lose the last commits,
never corrupt the file. Writes are grouped: every change made while one commit runs goes into
the next, from a worker thread, so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("herald.emulator")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS webhooks (
    seq INTEGER PRIMARY KEY, waba_id TEXT NOT NULL, due_at REAL NOT NULL, change TEXT NOT NULL
);
"""
_PUT = "INSERT OR REPLACE INTO objects (kind, id, body) VALUES (?, ?, ?)"
_DROP = "DELETE FROM objects WHERE kind = ? AND id = ?"
_ADD_WEBHOOK = "INSERT OR REPLACE INTO webhooks (seq, waba_id, due_at, change) VALUES (?, ?, ?, ?)"
_REMOVE_WEBHOOK = "DELETE FROM webhooks WHERE seq = ?"


@dataclass(frozen=True)
class StoredWebhook:
    seq: int
    waba_id: str
    due_at: float  # wall clock
    change: dict[str, Any]


def _encode(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


class StateFile:
    """Buffered, grouped writes to the state file; ``durable()`` waits for what came before."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection, used by one thread at a time: the loading caller, then the writer.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._written: dict[str, dict[str, str]] = {}  # kind → id → JSON as last written
        self._ops: list[tuple[str, tuple[Any, ...]]] = []
        self._next: asyncio.Future[None] | None = None  # resolved once ``_ops`` is written
        self._writing: asyncio.Future[None] | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    # --- loading (once, before anything is written) ----------------------------------------

    def load_objects(self) -> dict[str, dict[str, Any]]:
        """Every remembered object: kind → id → body."""
        found: dict[str, dict[str, Any]] = {}
        for kind, key, body in self._db.execute("SELECT kind, id, body FROM objects"):
            found.setdefault(kind, {})[key] = json.loads(body)
            self._written.setdefault(kind, {})[key] = body
        return found

    def load_webhooks(self) -> list[StoredWebhook]:
        rows = self._db.execute("SELECT seq, waba_id, due_at, change FROM webhooks ORDER BY seq")
        return [StoredWebhook(seq, waba, due, json.loads(body)) for seq, waba, due, body in rows]

    # --- changes (buffered; written together by the writer task) -----------------------------

    def sync(self, kind: str, objects: dict[str, Any]) -> None:
        """Make the file's objects of ``kind`` what ``objects`` (id → JSON-able body) holds:
        only the ones that changed since the last write are written."""
        written = self._written.setdefault(kind, {})
        for key in [k for k in written if k not in objects]:
            del written[key]
            self._buffer(_DROP, (kind, key))
        for key, body in objects.items():
            encoded = _encode(body)
            if written.get(key) != encoded:
                written[key] = encoded
                self._buffer(_PUT, (kind, key, encoded))

    def add_webhook(self, webhook: StoredWebhook) -> None:
        self._buffer(
            _ADD_WEBHOOK,
            (webhook.seq, webhook.waba_id, webhook.due_at, _encode(webhook.change)),
        )

    def remove_webhooks(self, seqs: Iterable[int]) -> None:
        for seq in seqs:
            self._buffer(_REMOVE_WEBHOOK, (seq,))

    async def durable(self) -> None:
        """Wait until every change buffered so far is in the file."""
        waiting = self._next if self._ops else self._writing
        if waiting is not None:
            await asyncio.shield(waiting)

    def _buffer(self, statement: str, args: tuple[Any, ...]) -> None:
        self._ops.append((statement, args))
        if self._next is None:
            loop = asyncio.get_running_loop()
            self._next = loop.create_future()
            if self._task is None:
                self._wake = asyncio.Event()
                self._task = loop.create_task(self._run(), name="emulator-state-writer")
            assert self._wake is not None
            self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._ops:
                ops, self._ops = self._ops, []
                self._writing, self._next = self._next, None
                try:
                    await asyncio.to_thread(self._write, ops)
                except Exception as exc:  # a full disk must not stop the emulator's sends
                    log.error("emulator.state_write_failed", path=str(self.path), error=repr(exc))
                finally:
                    if self._writing is not None and not self._writing.done():
                        self._writing.set_result(None)
                    self._writing = None

    def _write(self, ops: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._db.execute("BEGIN")
        try:
            for statement, args in ops:
                self._db.execute(statement, args)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    async def aclose(self) -> None:
        """Write what is buffered, then close the file."""
        if self._task is not None:
            await self.durable()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._ops:  # buffered after the writer stopped
            ops, self._ops = self._ops, []
            self._write(ops)
        self._db.close()
