"""The cyclic collector tuned for a long-running server."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Leave what startup made (modules, classes, the app) out of every later collection.

    A full cyclic collection walks every tracked object, and the ~164,000 that importing
    FastAPI, SQLAlchemy and pydantic and building the app leave behind live as long as the
    process: measured here, one full collection took ~100 ms (every request in flight waits
    for it: the p99 of cheap requests), ~0 once they are frozen. ``gc.freeze`` is the
    standard library's answer for a long-running server. Called again once the process has
    started (its pools, runtime and caches made), and the youngest generation collected every
    ``YOUNG_COLLECTION`` allocations rather than 700: a single send allocates a few hundred
    objects, so the default collected after every second or third one. Measured on single
    sends (PostgreSQL, 64 clients, the API's CPU a send): 608 µs as before, 490 µs with the
    second freeze, 410 µs with the larger threshold too (docs/benchmarks.md, "Intake").

    """
    freeze_heap()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


def freeze_heap() -> None:
    """What exists now, out of every later collection. The emulator freezes its startup heap
    but keeps the default young generation: its full collections stalled its event loop for
    130-200 ms, long enough to bunch evenly spaced sends into a burst its throughput check
    refused, and with the larger young generation its middle ones took over 100 ms (it makes
    much more cyclic garbage per request than Herald's API)."""
    gc.collect()
    gc.freeze()


YOUNG_COLLECTION = 20_000  # objects; the garbage they can hold is a few MB at most
