"""wrk, the C load generator: installed from Debian when missing, driven with small Lua scripts,
its report parsed into requests per second and latency percentiles."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

POST_JSON = """
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
"""

GET_WITH_TOKEN = """
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
"""

# Cycles through pre-signed bodies: one "<signature>\\t<body>" per line.
SIGNED_BODIES = """
local items = {}
local counter = 0
init = function(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    local tab = line:find("\\t")
    items[#items + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
  end
end
-- With BENCH_DELAY_MS each connection waits that long after an answer before its next
-- request: 64 connections then offer about 64 / (delay + latency) requests a second, a load
-- below the server's ceiling instead of the ceiling itself. wrk waits whole milliseconds, so a
-- fractional pause is dithered: the next whole millisecond up for that fraction of requests.
-- (wrk only schedules through a timer when `delay` is defined, so it is defined only when
-- asked for.)
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  local whole, fraction = math.floor(pause), pause - math.floor(pause)
  delay = function()
    if math.random() < fraction then return whole + 1 end
    return whole
  end
end
request = function()
  counter = counter + 1
  local item = items[(counter % #items) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = item[1]}, item[2])
end
"""


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
    return found


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run(
    url: str,
    script: str,
    *,
    connections: int = 64,
    seconds: int = 10,
    threads: int = 2,
    env: dict[str, str] | None = None,
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        done = subprocess.run(
            [
                ensure_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                lua.name,
                url,
            ],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    finally:
        Path(lua.name).unlink()
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests_per_second=rps,
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )
