"""What the benchmarks ask of a server and how: sizes and durations (Scale), wrk
scenarios (Kind, Scenario), the Lua scripts that drive wrk, running wrk and reading
its output (Result)."""

import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import dataset
from bench.servers import HOST

WRK_TIMEOUT = 30  # seconds; a slower answer counts as an error
STATUSES = ("active", "closed", "expired")


@dataclass(frozen=True)
class Scale:
    signals: int
    candles: int
    journal: int
    duration: int  # seconds of each wrk row
    mixed: int  # seconds of the 200-connection mixed row
    compare: int  # seconds of each server-comparison row
    rounds: int  # server-comparison rounds (the best of them is reported)
    warmup: int
    single: int  # timed single requests (bulk, fresh generation)
    bulk_items: int
    minutes: int  # deadline of the whole run


@dataclass
class Kind:
    """One kind of request of a wrk scenario: a random path from a list, or a path
    with a random integer in [lo, hi]."""

    weight: float
    paths: list[str] | None = None
    fmt: str | None = None
    lo: int = 0
    hi: int = 0


@dataclass
class Scenario:
    key: str
    label: str
    kinds: list[Kind]
    floor_kinds: list[Kind]
    connections: int
    duration: int
    cache: bool = False
    method: str = "GET"
    body: str | None = None
    token: str | None = None
    note: str = ""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    error_detail: str = ""


def list100_args() -> list[dict[str, Any]]:
    """The 100-signal list of each pair and status: 90 URLs' query arguments."""
    return [
        {"pair": pair, "status": status, "page_size": 100}
        for pair in dataset.PAIR_NAMES
        for status in STATUSES
    ]


def list100_paths() -> list[str]:
    return [f"/api/signals/?{urlencode(args)}" for args in list100_args()]


# ---------------------------------------------------------------- wrk and its Lua


def lua_string(text: str) -> str:
    return json.dumps(text)  # ASCII paths: a JSON string is a valid Lua string


def _lua_kinds(kinds: list[Kind]) -> str:
    entries = []
    for kind in kinds:
        if kind.paths is not None:
            paths = ", ".join(lua_string(p) for p in kind.paths)
            entries.append(f"{{w = {kind.weight}, paths = {{{paths}}}}}")
        else:
            entries.append(
                f"{{w = {kind.weight}, fmt = {lua_string(kind.fmt or '')}, "
                f"lo = {kind.lo}, hi = {kind.hi}}}"
            )
    return ", ".join(entries)


def _lua_headers(
    token: str | None, body: str | None, extra_headers: dict[str, str] | None
) -> str:
    headers = ['["Accept"] = "application/json"']
    if token:
        headers.append(f'["Authorization"] = {lua_string("Token " + token)}')
    if body is not None:
        headers.append('["Content-Type"] = "application/json"')
    for name, value in (extra_headers or {}).items():
        headers.append(f"[{lua_string(name)}] = {lua_string(value)}")
    return ", ".join(headers)


def lua_script(
    kinds: list[Kind],
    method: str,
    body: str | None,
    token: str | None,
    extra_headers: dict[str, str] | None = None,
) -> str:
    headers = _lua_headers(token, body, extra_headers)
    body_lua = "nil" if body is None else "[==[" + body + "]==]"
    return f"""
local kinds = {{{_lua_kinds(kinds)}}}
local total = 0
for _, k in ipairs(kinds) do total = total + k.w end
local method = {lua_string(method)}
local body = {body_lua}
init = function(args)
  local address = tostring({{}}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(address:sub(-6), 16))
end
request = function()
  local r = math.random() * total
  local acc = 0
  for i, k in ipairs(kinds) do
    acc = acc + k.w
    if r <= acc or i == #kinds then
      local path
      if k.paths then
        path = k.paths[math.random(#k.paths)]
      else
        path = string.format(k.fmt, math.random(k.lo, k.hi))
      end
      local headers = {{{headers}}}
      return wrk.format(method, path, headers, body)
    end
  end
end
"""


def soak_lua(reads: list[str], ids: tuple[int, int], staff: str, trader: str) -> str:
    """bench/soak.py's mix: 85 % reads (40 % of them details), 10 % staff PATCHes,
    5 % journal entries created."""
    lo, hi = ids
    paths = ", ".join(json.dumps(p) for p in reads)
    return f"""
local reads = {{{paths}}}
local staff = {json.dumps("Token " + staff)}
local trader = {json.dumps("Token " + trader)}
init = function(args)
  local address = tostring({{}}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(address:sub(-6), 16))
end
request = function()
  local r = math.random()
  if r < 0.85 then
    local headers = {{["Accept"] = "application/json"}}
    if math.random() < 0.4 then
      return wrk.format("GET", string.format("/api/signals/%d/",
        math.random({lo}, {hi})), headers)
    end
    return wrk.format("GET", reads[math.random(#reads)], headers)
  end
  local headers = {{["Accept"] = "application/json",
                   ["Content-Type"] = "application/json"}}
  if r < 0.95 then
    headers["Authorization"] = staff
    local body = string.format('{{"confidence": %d}}', math.random(1, 99))
    return wrk.format("PATCH", string.format("/api/signals/%d/",
      math.random({lo}, {hi})), headers, body)
  end
  headers["Authorization"] = trader
  local body = '{{"pair": "EUR/USD", "direction": "buy", "entry_price": 1.1,' ..
    ' "quantity": 1000, "opened_at": "2026-02-01T00:00:00Z"}}'
  return wrk.format("POST", "/api/journal/", headers, body)
end
"""


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors, detail = 0, []
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
        detail.append(f"{non2xx.group(1)} non-2xx")
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        counts = dict(
            zip(
                ("connect", "read", "write", "timeout"),
                map(int, sockets.groups()),
                strict=True,
            )
        )
        errors += sum(counts.values())
        detail += [f"{n} {name}" for name, n in counts.items() if n]
    return Result(rps, p50, p99, requests, errors, ", ".join(detail))


def run_wrk(
    workdir: Path,
    port: int,
    kinds: list[Kind],
    *,
    connections: int,
    duration: int,
    method: str = "GET",
    body: str | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    """One wrk run (2 threads) against 127.0.0.1:`port`, its script in `workdir`."""
    script = workdir / f"wrk-{secrets.token_hex(4)}.lua"
    script.write_text(lua_script(kinds, method, body, token, headers))
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        f"{WRK_TIMEOUT}s",
        "-s",
        str(script),
        f"http://{HOST}:{port}",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=True
    )
    return parse_wrk(done.stdout)
