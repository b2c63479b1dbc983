"""Which ASGI server should run Herald's API? ``python -m bench.servers`` serves the same app
(PostgreSQL, one process) with uvicorn (uvloop + httptools, what ``herald api`` runs) and with
granian, and drives the no-op route and single sends through each with wrk, one server after
the other in the same run. Granian is installed for the comparison when missing."""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench import wrk
from bench.procs import Process, Stack, start_api, wait_http
from bench.scenarios import stack
from bench.setup import Account, prepare, token


def granian_app() -> object:
    """The factory granian imports: the app ``herald api`` would build from the environment."""
    from herald.app import create_app
    from herald.config import Settings
    from herald.logging import configure_logging

    settings = Settings().model_copy(update={"background_tasks": False})
    configure_logging(settings.resolved_log_format, settings.log_level)
    return create_app(settings)


def _start_granian(installation: Stack, port: int) -> Process:
    env = {**installation.env(), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    command = [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop"),
        "--no-ws",
        "bench.servers:granian_app",
    ]
    log = (installation.data_dir / "granian.log").open("ab")
    process = Process("granian", subprocess.Popen(command, env=env, stdout=log, stderr=log))
    process.url = f"http://127.0.0.1:{port}"
    wait_http(f"{process.url}/healthz")
    return process


def _drive(process: Process, account: Account, seconds: int) -> dict[str, float]:
    assert process.url is not None
    noop = wrk.run(f"{process.url}/healthz", wrk.GET_WITH_TOKEN, seconds=seconds)
    body = json.dumps({"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A1"]})
    sends = wrk.run(
        f"{process.url}/api/v2/whatsapp/templates/{account.template_id}/send",
        wrk.POST_JSON,
        seconds=seconds,
        env={"BENCH_BODY": body, "BENCH_TOKEN": token(process.url, account.email)},
    )
    return {"noop_rps": noop.requests_per_second, "send_rps": sends.requests_per_second}


def main(runs: int = 3, seconds: int = 5) -> None:
    if importlib.util.find_spec("granian") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "granian"], check=True)
    results: dict[str, list[dict[str, float]]] = {"uvicorn": [], "granian": []}
    with stack("postgresql") as installation:
        [account] = prepare(installation)
        port = int(installation.extra_env["HERALD_PORT"])
        for _ in range(runs):
            for name in results:
                if name == "uvicorn":
                    server = start_api(installation, port)
                else:
                    server = _start_granian(installation, port)
                try:
                    results[name].append(_drive(server, account, seconds))
                finally:
                    server.stop()
                    installation.api = None
    print("| Server | No-op route (req/s) | Single sends (req/s) |")
    print("|---|---|---|")
    for name, figures in results.items():
        noop = statistics.median(f["noop_rps"] for f in figures)
        send = statistics.median(f["send_rps"] for f in figures)
        print(f"| {name} | {noop:,.0f} | {send:,.0f} |")


if __name__ == "__main__":
    main()
