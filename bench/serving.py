"""What the web benchmarks share: gunicorn serving the app on a benchmark database, logged-in
sessions, and `wrk` runs whose figures come back as a dict (its Lua script prints them as JSON).

Every process started here is in a process group of its own and is ended (SIGTERM, then SIGKILL)
when the `with` block is left — also on Ctrl-C or an error.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import requests

from bench.common import REDIS_URL
from bench.dataset import AS_OF, PASSWORD

ROOT = Path(__file__).resolve().parent.parent
#: gunicorn's settings as production has them (deploy/ppp-tracker-web.service): gthread workers,
#: 4 threads each, so that a request waiting on PostgreSQL does not hold the core idle.
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
#: 2 cores: one gunicorn worker process per core (the GIL lets a process use one).
WORKERS = 2
USER_AGENT = "ppp-bench"

#: wrk's Lua: each request takes the next (path, cookie) pair; `done` prints the figures as
#: JSON. `response` counts status classes itself, so that a 3xx (a lost session redirected to
#: the login page) counts as an error too — wrk's own count only has statuses >= 400.
WRK_LUA = r"""
local pairs_ = {PAIRS}
counter = 0
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads - 1)
end

function init(args)
  counter = offset
  statuses = {}
end

function request()
  counter = counter + 1
  local p = pairs_[(counter % #pairs_) + 1]
  return wrk.format("GET", p[1], {["Cookie"] = p[2], ["User-Agent"] = "ppp-bench"})
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s": %d', k, v)) end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, ' ..
    '"timeouts": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"mean_ms": %.2f, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    table.concat(parts, ", ")))
end
"""

#: The Lua without the `response` callback: wrk then need not hand every response to Lua,
#: which would cost the throughput comparisons some of wrk's own (shared) CPU.
WRK_LUA_FAST = WRK_LUA.replace("function response(status, headers, body)", "local function _r(s)")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, queue: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "CELERY_QUEUE": queue,
        "FAKE_TODAY": AS_OF.isoformat(),
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "PYTHONPATH": str(ROOT),
        # As deploy/ppp-tracker.env sets it for production: at most 2 malloc arenas a process.
        "MALLOC_ARENA_MAX": "2",
    }


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """End a process group started here: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int = WORKERS,
    worker_connections: int | None = None,
):
    """gunicorn serving wsgi:app with production's settings (GUNICORN_CONF); yields
    (base_url, process).

    `worker_connections` caps the connections each worker process holds. wrk's keep-alive
    connections stay with the worker that accepted them, and one worker often accepts them all
    (seen: 8 of 8 in one run of 6, which then ran at half the throughput of the others, its
    other core idle); with a cap of connections / workers each process gets its share, as a load
    balancer in front of several processes would give them.
    """
    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the server's lifetime
        prefix="bench-gunicorn-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(GUNICORN_CONF),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            # The 50-connection load test keeps its connections open (keep-alive).
            "--keep-alive",
            "30",
            "--timeout",
            "120",
            *(["--worker-connections", str(worker_connections)] if worker_connections else []),
            "wsgi:app",
        ],
        cwd=ROOT,
        env=server_env(database_url, "bench-web"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log.name}")
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still loading
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer; see {log.name}")
            time.sleep(0.3)
        yield base, process
    finally:
        stop(process)
        log.close()


def worker_pids(master: subprocess.Popen) -> list[int]:
    """The worker processes of a gunicorn (or celery prefork) master."""
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master.pid)], capture_output=True, text=True
    )
    return [int(line) for line in out.stdout.split()]


def login(base: str, email: str, password: str = PASSWORD) -> str:
    """Log in through the login form (a real CSRF token); returns the Cookie header's value."""
    session = requests.Session()
    # Flask-Login's session protection ties a session to the client's address and User-Agent:
    # wrk sends the same one.
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(base + "/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        token = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
    response = session.post(
        base + "/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login of {email} failed: {response.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def check(base: str, pairs: list[tuple[str, str]]) -> None:
    """Every (path, cookie) answers 200 before it is loaded (a redirect would hide an error)."""
    for path, cookie in pairs:
        response = requests.get(
            base + path,
            headers={"Cookie": cookie, "User-Agent": USER_AGENT},
            allow_redirects=False,
            timeout=120,
        )
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")


def wrk(
    base: str,
    pairs: list[tuple[str, str]],
    *,
    connections: int,
    seconds: int,
    threads: int = 1,
    count_statuses: bool = False,
    timeout_s: int = 10,
) -> dict:
    """Load `base` with `wrk`, rotating over (path, cookie) pairs; returns wrk's figures."""
    lua = (WRK_LUA if count_statuses else WRK_LUA_FAST).replace(
        "{PAIRS}",
        "{"
        + ", ".join(
            # Percent-encoded: wrk's Lua (5.1) reads no \u escapes, and a request line is ASCII.
            "{" + json.dumps(quote(p, safe="/?=&-")) + ", " + json.dumps(c) + "}"
            for p, c in pairs
        )
        + "}",
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                f"--timeout={timeout_s}s",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(script.name)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")
    figures = json.loads(line[len("WRK_JSON ") :])
    figures["rps"] = round(figures["requests"] / (figures["duration_us"] / 1e6), 1)
    figures["errors"] = (
        figures["connect_errors"]
        + figures["read_errors"]
        + figures["write_errors"]
        + figures["timeouts"]
        + sum(n for status, n in figures["statuses"].items() if not status.startswith("2"))
        + (figures["status_errors"] if not count_statuses else 0)
    )
    return figures


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS in /proc/PID/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
