"""50 users for 60 seconds on the main pages, and the memory of a web and a worker process.

    python -m bench load [--connections 50] [--seconds 60] [--database NAME]
                         [--small-database NAME]

Run at two sizes, 100,000 and 1,000,000 milestones (1,000 and 10,000 contracts), to show whether
the memory of a process grows with the registry; each data set is made by the run (and dropped)
unless an existing one is named.

gunicorn (2 processes × 4 threads) on the 10,000-contract data set; wrk keeps 50 connections
busy, each request taking the next (page, session) pair: sessions of a manager, a viewer (all
regions), officers of two regions and a lawyer; pages: dashboard, deadlines, contracts, a
contract of the user's region, a milestone, the claims queue, search, sites, projects. Any answer
but 2xx counts as an error (a 3xx would be a lost session sent to the login page), as do socket
errors and timeouts (10 s).

Memory: VmRSS of the gunicorn workers after a warm-up and after the load, and of a Celery worker
(prefork, 2 processes) after start and after it has refreshed the dashboard of every scope (the
heaviest task), against a bare Python process that has imported Flask and Celery.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

import psycopg

from bench import dataset
from bench.common import psycopg_url, save
from bench.serving import (
    ROOT,
    WORKERS,
    check,
    gunicorn,
    login,
    rss_kib,
    server_env,
    stop,
    worker_pids,
    wrk,
)
from bench.web import bench_database

USERS = {
    "manager": ("manager@bench.kz", None),
    "viewer": ("viewer@bench.kz", None),
    "officer KZ-35": ("officer-kz-35@bench.kz", "KZ-35"),
    "officer KZ-71": ("officer-kz-71@bench.kz", "KZ-71"),
    "legal KZ-35": ("legal-kz-35@bench.kz", "KZ-35"),
}


def _paths(conn, region: str | None) -> list[str]:
    where = "WHERE c.region_code = %(r)s" if region else ""
    contract_id, milestone_id = conn.execute(
        f"SELECT c.id, min(m.id) FROM contracts c JOIN milestones m ON m.contract_id = c.id "
        f"{where} GROUP BY c.id ORDER BY c.id LIMIT 1",
        {"r": region},
    ).fetchone()
    return [
        "/",
        # For users who see every region: all regions' deadlines (11,000 rows at this size,
        # shown 25 a list since round 2 — docs/performance.md).
        "/deadlines",
        "/contracts",
        "/contracts?sort=-amount&page=3",
        f"/contracts/{contract_id}",
        f"/milestones/{milestone_id}",
        "/claims",
        "/search?q=Поставка",
        "/sites",
        "/projects",
    ]


BARE = "import flask, celery, sqlalchemy; print(open('/proc/self/status').read())"


def bare_rss_kib() -> int:
    out = subprocess.run([sys.executable, "-c", BARE], capture_output=True, text=True, check=True)
    return next(int(x.split()[1]) for x in out.stdout.splitlines() if x.startswith("VmRSS:"))


def worker_memory(url: str, name: str) -> dict:
    """A prefork Celery worker: RSS of its processes after start and after refreshing every
    scope's dashboard (sent as a task; done when the snapshot rows change)."""
    queue = f"bench-load-{int(time.time())}"
    env = server_env(url, queue)
    env["ALERT_SCAN_ON_WORKER_START"] = "0"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--without-mingle",
            "--without-gossip",
            "-Q",
            queue,
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(worker_pids(process)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)
        pids = worker_pids(process)
        started = {pid: rss_kib(pid) for pid in pids}
        with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
            before = conn.execute("SELECT max(computed_at) FROM dashboard_snapshots").fetchone()[0]
            from celery import Celery

            client = Celery(broker=env["CELERY_BROKER_URL"])
            start = time.perf_counter()
            client.send_task(
                "reports.refresh_dashboard", args=[dataset.AS_OF.isoformat()], queue=queue
            )
            while True:
                after = conn.execute("SELECT min(computed_at) FROM dashboard_snapshots").fetchone()[
                    0
                ]
                if after is not None and before is not None and after > before:
                    break
                if time.perf_counter() - start > 600:
                    raise RuntimeError("the worker did not refresh the dashboard")
                time.sleep(0.5)
            refresh_s = time.perf_counter() - start
        loaded = {pid: rss_kib(pid) for pid in worker_pids(process)}
        return {
            "master_kib": rss_kib(process.pid),
            "children_after_start_kib": started,
            "children_after_refresh_kib": loaded,
            "refresh_through_worker_s": round(refresh_s, 1),
        }
    finally:
        stop(process)


#: The data sets memory is compared at: contracts (100 milestones each) by label.
SIZES = {"100k milestones": 1_000, "1M milestones": dataset.CONTRACTS}


@contextmanager
def sized_database(existing: str | None, contracts: int):
    """A data set of `contracts` contracts: an existing database (kept), or made and dropped."""
    if existing or contracts == dataset.CONTRACTS:
        with bench_database(existing) as made:
            yield made
        return
    from bench.common import make_app, pg_database
    from bench.web import refresh_snapshots

    with pg_database("ppp_bench_load") as (name, url):
        app = make_app(url)
        with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
            dataset.build(app, conn, contracts=contracts)
        refresh_snapshots(app)
        yield name, url


def run_load(name: str, url: str, args) -> dict:
    """The 60-second load on one data set, with the web workers' memory, then the worker's."""
    results: dict = {}
    with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
        paths = {label: _paths(conn, region) for label, (_e, region) in USERS.items()}
    # Each worker process holds its share of the connections (bench.serving.gunicorn).
    share = max(1, args.connections // WORKERS)
    with gunicorn(url, worker_connections=share) as (base, master):
        workers = worker_pids(master)
        results["web_after_start_kib"] = {pid: rss_kib(pid) for pid in workers}
        cookies = {label: login(base, email) for label, (email, _r) in USERS.items()}
        pairs = [(p, cookies[label]) for label in USERS for p in paths[label]]
        check(base, pairs)
        # Warm-up: every page through both workers a few times.
        wrk(base, pairs, connections=4, seconds=10, count_statuses=True)
        results["web_after_warmup_kib"] = {pid: rss_kib(pid) for pid in workers}
        results["load"] = wrk(
            base,
            pairs,
            connections=args.connections,
            seconds=args.seconds,
            threads=2,
            count_statuses=True,
        )
        results["web_after_load_kib"] = {pid: rss_kib(pid) for pid in workers}
        results["web_master_kib"] = rss_kib(master.pid)
    results["pairs"] = len(pairs)
    results["worker"] = worker_memory(url, name)
    return results


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--database", help="an existing 1M-milestone data-set database (kept)")
    parser.add_argument(
        "--small-database", help="an existing 100k-milestone data set (1,000 contracts; kept)"
    )
    args = parser.parse_args(argv)

    results: dict = {"connections": args.connections, "seconds": args.seconds, "sizes": {}}
    results["bare_python_kib"] = bare_rss_kib()
    existing = {"100k milestones": args.small_database, "1M milestones": args.database}
    for size, contracts in SIZES.items():
        with sized_database(existing[size], contracts) as (name, url):
            if existing[size]:
                from bench.common import make_app
                from bench.web import refresh_snapshots

                refresh_snapshots(make_app(url))
            start_load = _loadavg()
            results["sizes"][size] = run_load(name, url, args)
            results["sizes"][size]["loadavg"] = [start_load, _loadavg()]
    errors = 0
    for size, r in results["sizes"].items():
        errors += _report(size, r, results["bare_python_kib"], args)
    _report_flat(results)
    print("saved", save("load", results))
    return 0 if errors == 0 else 1


def _mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def _report(size: str, r: dict, bare: int, args) -> int:
    f = r["load"]
    print(
        f"[{size}, load average {r['loadavg'][0]} → {r['loadavg'][1]}] {args.connections} "
        f"connections × {args.seconds} s over {r['pairs']} (page, user) pairs: "
        f"{f['requests']:,} requests ({f['rps']:.1f}/s), errors {f['errors']} "
        f"(statuses {f['statuses']}, socket: connect {f['connect_errors']}, read "
        f"{f['read_errors']}, write {f['write_errors']}, timeouts {f['timeouts']}); latency "
        f"p50 {f['p50_ms']:.0f} ms, p90 {f['p90_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms, max "
        f"{f['max_ms']:.0f} ms"
    )
    for key in ("web_after_start_kib", "web_after_warmup_kib", "web_after_load_kib"):
        values = list(r[key].values())
        print(
            f"  gunicorn worker RSS {key[4:-4].replace('_', ' ')}: "
            f"{', '.join(_mib(v) for v in values)} (×{statistics.mean(values) / bare:.1f} of a "
            f"bare Python with Flask and Celery imported, {_mib(bare)})"
        )
    w = r["worker"]
    for key in ("children_after_start_kib", "children_after_refresh_kib"):
        values = list(w[key].values())
        print(
            f"  celery worker process RSS {key[9:-4].replace('_', ' ')}: "
            f"{', '.join(_mib(v) for v in values)} (×{statistics.mean(values) / bare:.1f} of bare)"
        )
    print(
        f"  dashboard refresh of every scope through the worker: {w['refresh_through_worker_s']} s"
    )
    return f["errors"]


def _report_flat(results: dict) -> None:
    """Memory at 1M milestones against 100k: goals ≤ 150 MiB (web), ≤ 200 MiB (worker), ±10 %."""
    small, large = (results["sizes"][size] for size in SIZES)
    figures = {
        "gunicorn worker after the load": (
            max(small["web_after_load_kib"].values()),
            max(large["web_after_load_kib"].values()),
            150,
        ),
        "celery worker after refreshing every scope": (
            max(small["worker"]["children_after_refresh_kib"].values()),
            max(large["worker"]["children_after_refresh_kib"].values()),
            200,
        ),
    }
    for label, (at_small, at_large, goal) in figures.items():
        growth = at_large / at_small - 1
        met = at_large / 1024 <= goal and abs(growth) <= 0.10
        print(
            f"{label}: {_mib(at_small)} at 100k milestones, {_mib(at_large)} at 1M "
            f"({growth:+.0%}); goal ≤ {goal} MiB and within ±10 %: " + ("met" if met else "NOT MET")
        )
