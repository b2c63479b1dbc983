"""``python -m bench.bulk_inprocess sqlite|postgresql [--calls N] [--profile]``: 10,000-recipient
``send-bulk`` calls through the real app in this process (no HTTP server, no other process).

For profiling bulk intake: the request body is built once, each call posts it through httpx's
ASGI transport, and the figures are this process's wall and CPU time per call. ``--profile``
runs pyinstrument over the calls and prints where the time went; ``--cpu-profile`` runs
cProfile on this process's CPU clock instead (on a busy machine, wall-clock samples mostly show
the wait for a core).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from herald import migrate
from herald.app import create_app
from herald.channel import service as channel_service
from herald.channel.defaults import emulator_defaults
from herald.config import Settings
from herald.db import create_engine, session_factory
from herald.kit.crypto import Cipher
from herald.kit.passwords import hash_password_sync
from herald.models import Template, User

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password-1"
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ"


async def _database(kind: str, data_dir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{data_dir / 'herald.db'}", None
    name = f"herald_bulk_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


async def _drop(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _seed(settings: Settings) -> int:
    engine = create_engine(settings.resolved_database_url)
    await migrate.upgrade(engine)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session:
        user = User(
            email="bulk@example.com",
            password_hash=hash_password_sync(PASSWORD),
            has_api_access=True,
            is_disabled=False,
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        await session.flush()
        channel = await channel_service.ensure_default(
            session,
            user.id,
            emulator_defaults(settings),
            Cipher(settings.resolved_encryption_keys()),
            now,
        )
        template = Template(
            user_id=user.id,
            channel_id=channel.id,
            name="order_confirmed",
            language="en",
            category="UTILITY",
            state="APPROVED",
            body="Hello {{1}}, your order {{2}} is confirmed.",
            buttons=[],
            placeholder_count=2,
            provider_template_id="1",
            created_at=now,
            updated_at=now,
        )
        session.add(template)
        await session.commit()
        template_id = template.id
    await engine.dispose()
    return template_id


def _body(offset: int) -> bytes:
    recipients = [
        {"to": f"2169{offset + n:07d}", "country_code": "TN", "body_params": ["A", str(n)]}
        for n in range(10_000)
    ]
    return json.dumps({"recipients": recipients}).encode()


async def _run(kind: str, calls: int, profile: bool, cpu_profile: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, pg_name = await _database(kind, Path(tmp))
        settings = Settings(
            database_url=url,
            data_dir=Path(tmp),
            jwt_secret=SECRET,
            emulator_url="http://127.0.0.1:9/no-emulator",
            background_tasks=False,
        )
        try:
            template_id = await _seed(settings)
            app = create_app(settings)
            bodies = [_body(n * 10_000) for n in range(calls + 1)]
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://h") as client:
                    login = await client.post(
                        "/api/login_check",
                        json={"username": "bulk@example.com", "password": PASSWORD},
                    )
                    headers = {
                        "Authorization": f"Bearer {login.json()['data']['token']}",
                        "Content-Type": "application/json",
                    }
                    path = f"/api/v2/whatsapp/templates/{template_id}/send-bulk"
                    # One warm-up call: first-use imports and caches are not the steady state.
                    (await client.post(path, content=bodies[0], headers=headers)).raise_for_status()
                    profiler = None
                    if profile:
                        from pyinstrument import Profiler

                        profiler = Profiler(async_mode="enabled", interval=0.0005)
                        profiler.start()
                    cpu_profiler = None
                    if cpu_profile:
                        import cProfile

                        cpu_profiler = cProfile.Profile(time.process_time)
                        cpu_profiler.enable()
                    walls, cpus = [], []
                    collecting = {"since": 0.0, "total": 0.0, 0: 0.0, 1: 0.0, 2: 0.0}
                    collections = [0, 0, 0]

                    def on_gc(phase: str, info: dict[str, int]) -> None:
                        if phase == "start":
                            collecting["since"] = time.perf_counter()
                        else:
                            spent = time.perf_counter() - collecting["since"]
                            collecting["total"] += spent
                            collecting[info["generation"]] += spent
                            collections[info["generation"]] += 1
                            if info["generation"] == 2 and os.environ.get("BULK_GC_WHERE"):
                                import traceback

                                where = [
                                    f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}"
                                    for f in traceback.extract_stack()[-12:-1]
                                ]
                                print(f"gen2 {spent * 1000:.0f} ms at", " < ".join(where[::-1]))

                    gc.callbacks.append(on_gc)
                    if os.environ.get("BULK_GC_OFF"):  # an experiment: what collection costs
                        gc.disable()
                    for body in bodies[1:]:
                        wall, cpu = time.perf_counter(), time.process_time()
                        answer = await client.post(path, content=body, headers=headers)
                        walls.append(time.perf_counter() - wall)
                        cpus.append(time.process_time() - cpu)
                        answer.raise_for_status()
                        assert answer.json()["data"]["queued"] == 10_000
                    gc.callbacks.remove(on_gc)
                    if cpu_profiler is not None:
                        import pstats

                        cpu_profiler.disable()
                        stats = pstats.Stats(cpu_profiler).sort_stats("cumulative")
                        stats.print_stats(45)
                    if profiler is not None:
                        profiler.stop()
                        print(profiler.output_text(unicode=True, color=False, show_all=False))
            print(
                f"{kind}: {calls} calls, wall median {statistics.median(walls) * 1000:.0f} ms "
                f"(min {min(walls) * 1000:.0f}), cpu median {statistics.median(cpus) * 1000:.0f} "
                f"ms, {10_000 / statistics.median(walls):,.0f} recipients/s; garbage collection "
                f"{collecting['total'] / calls * 1000:.0f} ms a call (by generation: "
                f"{[round(collecting[g] / calls * 1000) for g in (0, 1, 2)]} ms, "
                f"{[round(n / calls) for n in collections]} collections; "
                f"{len(gc.get_objects())} objects tracked)"
            )
        finally:
            if pg_name is not None:
                await _drop(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["sqlite", "postgresql"])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cpu-profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(_run(args.kind, args.calls, args.profile, args.cpu_profile))


if __name__ == "__main__":
    main()
