"""``python -m bench all [--quick] [--runs N]``: run every scenario, write docs/benchmarks.md.

Each figure is the median of ``--runs`` runs; ratios are computed within one run (the two
things compared run side by side, one after the other, on the same processes)."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import channels as ch
from bench import cli_start as c
from bench import history as h
from bench import scenarios as s
from bench import wakeup as wk
from bench import webhook_ingest as w
from bench.setup import prepare, token

Figures = dict[str, float]
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def median_of(runs: int, once: Callable[[], Figures]) -> tuple[Figures, list[Figures]]:
    results = [once() for _ in range(runs)]
    keys = results[0].keys()
    return {k: statistics.median(r[k] for r in results) for k in keys}, results


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cores} cores ({cpu}), {int(memory) // 1024 // 1024} GiB, Python "
        f"{platform.python_version()}, {postgres or 'PostgreSQL'}, SQLite "
        f"{__import__('sqlite3').sqlite_version}"
    )


class Results(dict[str, object]):
    """Printed as they arrive, so a long run shows its progress."""

    def __setitem__(self, key: str, value: object) -> None:
        print(f"{key}: {value}", flush=True)
        super().__setitem__(key, value)


def intake_and_ingest(results: dict[str, object], runs: int, quick: bool) -> None:
    seconds = 5 if quick else 10
    for kind in ("sqlite", "postgresql"):
        with s.stack(kind) as installation:
            [account] = prepare(installation)
            api = s._api(installation)
            with s.sampling(api):
                results[f"intake_{kind}"] = median_of(
                    runs, lambda: s.intake(installation, account, api, seconds)
                )[0]
                offsets = iter(range(0, 10_000_000, 10_000))
                results[f"bulk_{kind}"] = median_of(
                    max(runs, 3), lambda: s.bulk_intake(api, account, next(offsets))
                )[0]
            results[f"api_rss_mb_{kind}"] = float(max(api.rss_samples))
            bodies = w.signed_bodies(
                account, 40_000 if not quick else 10_000, installation.data_dir
            )
            results[f"webhooks_{kind}"] = median_of(
                runs, lambda: w.webhook_ingest(api, bodies, seconds)
            )[0]
            results[f"upload_{kind}"] = s.upload_memory(api, account)


def single_sends(results: dict[str, object], runs: int, quick: bool) -> None:
    """Single-send intake alone (no bulk, webhooks or uploads), for working on that target."""
    seconds = 5 if quick else 10
    for kind in ("sqlite", "postgresql"):
        with s.stack(kind) as installation:
            [account] = prepare(installation)
            api = s._api(installation)
            results[f"intake_{kind}"] = median_of(
                runs, lambda: s.intake(installation, account, api, seconds)
            )[0]


def webhooks(results: dict[str, object], runs: int, quick: bool) -> None:
    """Webhook ingest alone, beside the no-op route, with the API's CPU time per ack (steadier
    than throughput on a shared machine)."""
    seconds = 5 if quick else 10
    for kind in ("sqlite", "postgresql"):
        with s.stack(kind) as installation:
            [account] = prepare(installation)
            api = s._api(installation)
            bodies = w.signed_bodies(
                account, 40_000 if not quick else 10_000, installation.data_dir
            )
            results[f"noop_{kind}"] = median_of(runs, lambda: w.noop(api, seconds))[0]
            results[f"webhooks_{kind}"] = median_of(
                runs, lambda: w.webhook_ingest(api, bodies, seconds)
            )[0]


def bulk(results: dict[str, object], runs: int, quick: bool) -> None:
    """Bulk intake alone: 10,000-recipient calls, and the API process's CPU time per call."""
    for kind in ("postgresql", "sqlite"):
        with s.stack(kind) as installation:
            [account] = prepare(installation)
            api = s._api(installation)
            offsets = iter(range(0, 10_000_000, 10_000))
            s.bulk_intake(api, account, next(offsets))  # warm-up: imports, caches, pool
            assert api.url is not None
            # Logged in once: a login is ~0.3 s of the API's CPU (argon2, on purpose), which
            # the CPU per call counted until 2026-12-01.
            bearer = token(api.url, account.email)

            def once() -> Figures:
                cpu = api.cpu_seconds()
                figures = s.bulk_intake(api, account, next(offsets), bearer)
                return {**figures, "api_cpu_seconds": api.cpu_seconds() - cpu}

            results[f"bulk_{kind}"] = median_of(max(runs, 5), once)[0]


def dispatch(results: dict[str, object], runs: int, quick: bool) -> None:
    with s.stack("postgresql") as installation:
        accounts = prepare(installation, users=2, throughput=1000)
        s._api(installation)
        total = 10_000 if quick else 50_000
        results["dispatch"] = {**s.dispatch(installation, accounts, total), "messages": total}
        assert installation.worker is not None
        results["worker_rss_mb"] = float(max(installation.worker.rss_samples))
        results["api_rss_mb_dispatch"] = float(max(installation.api.rss_samples))  # type: ignore[union-attr]

    with s.stack("postgresql") as installation:
        [account] = prepare(installation, throughput=80)
        s._api(installation)
        results["worker_cpu_80"] = s.worker_cpu_at(installation, account, 80, 20)


def pacing(results: dict[str, object], runs: int, quick: bool) -> None:
    for kind in ("sqlite", "postgresql"):
        with s.stack(kind) as installation:
            [account] = prepare(installation)
            s._api(installation)
            for rate in (80, 1000):
                results[f"pacing_{kind}_{rate}"] = s.pacing(
                    installation, account, rate, 5 if quick else 10
                )


def history(results: dict[str, object], runs: int, quick: bool) -> None:
    seconds = 5 if quick else 10
    for kind in ("postgresql", "sqlite"):
        with s.stack(kind) as installation:
            [account] = prepare(installation)
            api = s._api(installation)
            rows = 100_000 if quick else 1_000_000
            group = __import__("asyncio").run(
                h.fill_history(installation.database_url, account, rows)
            )
            results[f"history_{kind}"] = {
                **median_of(runs, lambda: h.history(api, account, group, seconds))[0],
                "rows": float(rows),
            }


def cli(results: dict[str, object], runs: int, quick: bool) -> None:
    results["cli_start"] = c.cli_start(runs)


def wakeup(results: dict[str, object], runs: int, quick: bool) -> None:
    """A single send's 202 to its arrival at the provider, idle and behind a bulk (one run:
    each is already a distribution of many sends)."""
    for kind in ("sqlite", "postgresql"):
        results[f"wakeup_{kind}"] = wk.wakeup(kind, quick)


def channels(results: dict[str, object], runs: int, quick: bool) -> None:
    """Issue 23: 20 channels paced at 50/s each by two workers, beside one channel alone."""
    figures = ch.many_channels(seconds=10 if quick else 20)
    results["channels_one"] = figures["one_channel"]
    results["channels_many"] = figures["many_channels"]
    results["channels_many_starting"] = figures["many_channels_starting"]


SECTIONS: dict[str, Callable[[dict[str, object], int, bool], None]] = {
    "intake": intake_and_ingest,
    "single-sends": single_sends,
    "webhooks": webhooks,
    "bulk": bulk,
    "dispatch": dispatch,
    "pacing": pacing,
    "history": history,
    "cli": cli,
    "wakeup": wakeup,
    "channels": channels,
}


# Sections that repeat part of "intake" (for working on one scenario alone): not part of "all".
ALONE = {"single-sends", "webhooks", "bulk"}


def run_all(runs: int, quick: bool, only: str = "all") -> dict[str, object]:
    results: dict[str, object] = Results()
    for name, section in SECTIONS.items():
        if only == name or (only == "all" and name not in ALONE):
            section(results, runs, quick)
    return results


def render(results: dict[str, object], command: str, elapsed: float) -> str:
    def f(value: object, digits: int = 1) -> str:
        return f"{value:,.{digits}f}" if isinstance(value, float | int) else str(value)

    def get(name: str) -> dict[str, float]:
        value = results[name]
        assert isinstance(value, dict)
        return value

    lines = [
        START,
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, with `{command}` "
        f"({elapsed / 60:.0f} min). Medians of the runs; ratios within each run.",
        "",
        "| # | Scenario | Target | Measured | Met |",
        "|---|---|---|---|---|",
    ]

    def noop_share(kind: str, per_second: float) -> str:
        """Beside the no-op route of the same server in the same run: this machine's speed
        varies from day to day, the ratio much less."""
        return f"{per_second / get(f'intake_{kind}')['noop_rps'] * 100:.0f}%"

    def row(number: str, name: str, target: str, measured: str, met: bool) -> None:
        lines.append(
            f"| {number} | {name} | {target} | {measured} | {'yes' if met else '**no**'} |"
        )

    for kind in ("sqlite", "postgresql"):
        i = get(f"intake_{kind}")
        row(
            "1",
            f"Intake, 64 clients ({kind})",
            "≥ 40% of no-op",
            f"{f(i['send_rps'], 0)} sends/s vs {f(i['noop_rps'], 0)} no-op/s = "
            f"{i['ratio'] * 100:.0f}% (p50 {f(i['send_p50_ms'])} ms, p99 {f(i['send_p99_ms'])} ms)",
            i["ratio"] >= 0.4,
        )
    for kind in ("sqlite", "postgresql"):
        b = get(f"bulk_{kind}")
        row(
            "2",
            f"Bulk intake, 10,000 per call ({kind})",
            "≥ 20,000/s on PostgreSQL" if kind == "postgresql" else "(no target)",
            f"{f(b['recipients_per_second'], 0)} recipients/s "
            f"({noop_share(kind, b['recipients_per_second'])} of the no-op route's requests/s)",
            kind != "postgresql" or b["recipients_per_second"] >= 20_000,
        )
    d = get("dispatch")
    row(
        "3",
        f"Dispatch end to end, {d['messages']:,.0f} messages, one worker (PostgreSQL)",
        "≥ 1,000 msg/s",
        f"{f(d['sent_per_second'], 0)} sent/s, {f(d['read_per_second'], 0)} to `read`/s "
        f"(of a core: worker {d['worker_cpu_share'] * 100:.0f}%, "
        f"emulator {d.get('emulator_cpu_share', float('nan')) * 100:.0f}%, "
        f"API {d.get('api_cpu_share', float('nan')) * 100:.0f}%)",
        d["read_per_second"] >= 1000,
    )
    c = get("worker_cpu_80")
    row(
        "3",
        "Worker CPU at 80 msg/s",
        "< 50% of a core",
        f"{c['worker_cpu_share'] * 100:.1f}% of a core",
        c["worker_cpu_share"] < 0.5,
    )
    for kind in ("sqlite", "postgresql"):
        for rate in (80, 1000):
            p = get(f"pacing_{kind}_{rate}")
            row(
                "4",
                f"Pacing at {rate}/s ({kind})",
                "within 2%, no 130429",
                f"{f(p['achieved'])}/s ({p['deviation_percent']:.1f}% off), "
                f"{int(p['refused_130429'])} × 130429"
                + (
                    f" (the bucket over Herald's send times: "
                    f"{int(p.get('bucket_refusals_as_sent', -1))}, over the arrivals: "
                    f"{int(p.get('bucket_refusals_as_arrived', -1))})"
                    if p["refused_130429"]
                    else ""
                )
                + (
                    f"; the machine {p['machine_busy_percent']:.0f}% busy, CPU a message: "
                    f"worker {p['worker_cpu_ms']:.2f}, emulator {p['emulator_cpu_ms']:.2f}, "
                    f"API {p['api_cpu_ms']:.2f}, the rest {p['other_cpu_ms']:.2f} ms"
                    if rate == 1000 and "machine_busy_percent" in p
                    else ""
                ),
                p["deviation_percent"] <= 2 and p["refused_130429"] == 0,
            )
    for kind in ("sqlite", "postgresql"):
        w = get(f"webhooks_{kind}")
        row(
            "5",
            f"Webhook ingest ({kind})",
            "≥ 3,000/s, median < 10 ms",
            f"{f(w['acks_per_second'], 0)}/s = {noop_share(kind, w['acks_per_second'])} of no-op, "
            f"median {f(w['p50_ms'])} ms at 64 busy connections; at "
            f"{f(w['paced_acks_per_second'], 0)}/s offered: median {f(w['paced_p50_ms'])} ms, "
            f"p99 {f(w['paced_p99_ms'])} ms",
            w["acks_per_second"] >= 3000
            and w["paced_acks_per_second"] >= 3000
            and w["paced_p50_ms"] < 10,
        )
    for kind in ("postgresql", "sqlite"):
        h = get(f"history_{kind}")
        row(
            "6",
            f"History, {h['rows']:,.0f} messages ({kind})",
            "p99 < 25 ms each; deep ≤ 2× page 1",
            f"page 1 {f(h['page_1_p99_ms'])} ms, page 5,000 by `before_id` "
            f"{f(h['page_5000_cursor_p99_ms'])} ms, group {f(h['group_p99_ms'])} ms (p99); "
            f"deep/first {h['deep_over_first']:.1f}× (page 5,000 by number "
            f"{f(h['page_5000_p99_ms'])} ms, {h['deep_offset_over_first']:.1f}×)",
            # Deep lists are walked by before_id; the page by number is reported beside it.
            max(h["page_1_p99_ms"], h["page_5000_cursor_p99_ms"], h["group_p99_ms"]) < 25
            and h["deep_over_first"] <= 2,
        )
    rss = [results[k] for k in results if "rss_mb" in k]
    row(
        "7",
        "Memory under load (API, worker)",
        "< 250 MB each",
        ", ".join(
            f"{k.removesuffix('_mb').replace('_', ' ')} {f(results[k], 0)} MB"
            for k in results
            if "rss_mb" in k
        ),
        all(isinstance(v, float) and v < 250 for v in rss),
    )
    for kind in ("sqlite", "postgresql"):
        u = get(f"upload_{kind}")
        row(
            "7",
            f"100 MB upload ({kind})",
            "adds < 20 MB",
            f"{f(u['rss_before_mb'], 0)} → {f(u['rss_peak_mb'], 0)} MB ({round(u['added_mb']):+d})",
            u["added_mb"] < 20,
        )
    started = get("cli_start")
    walls = {k.removesuffix("_s"): v for k, v in started.items() if not k.endswith("_cpu_s")}
    row(
        "8",
        "CLI start: `--help`, `send --help`, `keys generate`, `callbacks verify`",
        "< 0.5 s each",
        ", ".join(
            f"{name.replace('_', ' ')} {wall:.2f} s (CPU {started[name + '_cpu_s']:.2f} s)"
            for name, wall in walls.items()
        ),
        max(wall for name, wall in walls.items() if name != "python_bare") < 0.5,
    )
    for kind, processes in (("sqlite", "`herald serve`"), ("postgresql", "api + worker")):
        k = get(f"wakeup_{kind}")
        row(
            "9",
            f"Wake-up: a send's 202 to the provider, {processes} ({kind})",
            "p99 < 50 ms idle, < 1 s behind a bulk",
            f"idle p50 {f(k['idle_p50_ms'])} ms, p99 {f(k['idle_p99_ms'])} ms "
            f"(after the channel was let go: up to {f(k['cold_max_ms'])} ms); behind "
            f"{k['bulk']:,.0f} bulk: p50 {f(k['behind_bulk_p50_ms'])} ms, "
            f"p99 {f(k['behind_bulk_p99_ms'])} ms, each ahead of "
            f"≥ {k['bulk_after_each_min']:,.0f} bulk sends",
            k["idle_p99_ms"] < 50
            and k["behind_bulk_p99_ms"] < 1000
            and k["bulk_after_each_min"] > 0,
        )
    one, many = get("channels_one"), get("channels_many")
    row(
        "10",
        f"{many['channels']:.0f} channels at {many['rate']:.0f}/s each, two workers (PostgreSQL)",
        "each within 2%, no 130429, worker CPU a message ≤ one channel's",
        f"worst channel {many['worst_deviation_percent']:.1f}% off (median "
        f"{many['median_deviation_percent']:.1f}%), {int(many['refused_130429'])} × 130429, "
        f"{many['sent']:,.0f} of {many['expected']:,.0f} sent; worker CPU a message "
        f"{many['worker_cpu_ms']:.2f} ms against {one['worker_cpu_ms']:.2f} ms with one channel "
        f"({one['worst_deviation_percent']:.1f}% off)"
        + (
            f"; workers' balance {many['worker_balance']:.2f}, the machine "
            f"{many['machine_busy_percent']:.0f}% busy"
            if "machine_busy_percent" in many
            else ""
        )
        + (
            f"; workers started on the full queue instead: worst "
            f"{starting['worst_deviation_percent']:.1f}% off, longest pause "
            f"{starting['longest_pause_ms']:,.0f} ms (the hand-over), "
            f"{int(starting['refused_130429'])} × 130429"
            if "channels_many_starting" in results and (starting := get("channels_many_starting"))
            else ""
        ),
        many["worst_deviation_percent"] <= 2
        and many["refused_130429"] == 0
        and many["sent"] >= many["expected"]
        and many["worker_cpu_ms"] <= one["worker_cpu_ms"],
    )
    lines += [
        "",
        "<details><summary>Raw figures</summary>",
        "",
        "```json",
        json.dumps(results, indent=1, default=str),
        "```",
        "",
        "</details>",
        END,
    ]
    return "\n".join(lines)


def write(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(head + section + tail)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    # One section alone prints its figures and leaves docs/benchmarks.md as it is.
    parser.add_argument("what", choices=["all", *SECTIONS])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="shorter runs, smaller data")
    args = parser.parse_args()
    command = "python -m bench all" + (" --quick" if args.quick else "")
    if args.runs != 3:
        command += f" --runs {args.runs}"
    started = time.perf_counter()
    results = run_all(args.runs, args.quick, args.what)
    if args.what != "all":
        print(json.dumps(results, indent=1, default=str))
        return
    section = render(results, command, time.perf_counter() - started)
    write(section)
    print(section)


if __name__ == "__main__":
    main()
