"""The dashboard (`/`) and the contract list (`/contracts`) at 10,000 contracts / 1,000,000
milestones, served by gunicorn and loaded with wrk, against `/healthz` of the same app on the same
server (it answers `{"status": "ok"}` after a `SELECT 1`: one database round trip, no page).

    python -m bench web [--seconds 15] [--connections 8] [--rounds 2] [--database NAME]

Each round runs wrk on each page as a manager (all regions) and as a regional officer, each time
right after wrk on `/healthz` with the same session, for the same time with the same number of
connections; the ratio of a page is its throughput divided by that `/healthz`'s (the median of
the rounds). Goal, for the dashboard and the contract list: ≥ 0.5, and p99 under 100 ms. The
dashboard, the contract list and the deadlines page are measured again while a thread edits a
contract every second (each edit moves the data version, so their bodies are rendered again).
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager, nullcontext

import psycopg

from bench import dataset
from bench.common import PG_HOST, make_app, pg_database, psycopg_url, save
from bench.serving import WORKERS, check, gunicorn, login, wrk

TRIVIAL = "/healthz"
PAGES = {
    "dashboard": "/",
    "contracts": "/contracts",
    "contracts, page 40 by amount": "/contracts?sort=-amount&page=40",
    "deadlines (all of the scope)": "/deadlines",
}
#: The pages the goal (≥ 0.5× of /healthz, p99 < 100 ms) is set for; the others are reported.
GOAL_PAGES = (
    "dashboard",
    "contracts",
    "contracts, page 40 by amount",
    "dashboard, a login every second",
    "contracts, a login every second",
)
USERS = {"manager (all regions)": "manager@bench.kz", "officer (KZ-35)": "officer-kz-35@bench.kz"}
#: Pages measured again while the registry changes once a second (a contract's subject, through
#: the product's service, as an officer's edit would): every change moves the data version, so
#: the bodies kept per version (core.versions) are rendered again after each write.
UNDER_WRITES = {
    "dashboard, a registry write every second": "/",
    "contracts, a registry write every second": "/contracts",
    "deadlines, a registry write every second": "/deadlines",
}
WRITE_EVERY_S = 1.0
#: Pages measured again while someone logs in once a second (the login form, as a browser).
UNDER_LOGINS = {
    "dashboard, a login every second": "/",
    "contracts, a login every second": "/contracts",
}
LOGIN_EVERY_S = 1.0


@contextmanager
def registry_writes(url: str, every: float = WRITE_EVERY_S):
    """A thread that edits one contract every `every` seconds until the block ends; yields the
    list of the versions it committed (their count is the number of writes)."""
    import threading

    import sqlalchemy as sa

    from ppp_tracker.auth.access import SYSTEM_USER
    from ppp_tracker.db import db
    from ppp_tracker.registry.models import Contract
    from ppp_tracker.registry.services.contracts import save_contract

    app = make_app(url)
    stop = threading.Event()
    written: list[int] = []

    def run() -> None:
        with app.app_context():
            contract_id = db.session.scalar(sa.select(sa.func.min(Contract.id)))
            while not stop.wait(every):
                contract = db.session.get(Contract, contract_id)
                save_contract(
                    SYSTEM_USER, {"subject": f"Поставка, редакция {len(written) + 1}"}, contract
                )
                db.session.commit()
                written.append(len(written) + 1)
            db.session.remove()
            db.engine.dispose()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join(timeout=30)


@contextmanager
def logins(base: str, email: str = "viewer@bench.kz", every: float = LOGIN_EVERY_S):
    """A thread that logs `email` in through the login form every `every` seconds until the block
    ends; yields the list of the logins made."""
    import threading

    stop = threading.Event()
    made: list[float] = []

    def run() -> None:
        while not stop.wait(every):
            login(base, email)
            made.append(time.monotonic())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        stop.set()
        thread.join(timeout=30)


@contextmanager
def bench_database(existing: str | None, log=print):
    """A database with the data set: made (and dropped afterwards), or an existing one kept."""
    if existing:
        yield existing, f"{PG_HOST}/{existing}"
        return
    with pg_database("ppp_bench_web") as (name, url):
        app = make_app(url)
        with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
            dataset.build(app, conn, log=log)
        refresh_snapshots(app, log)
        from ppp_tracker.db import db

        with app.app_context():
            db.engine.dispose()
        yield name, url


def refresh_snapshots(app, log=print) -> float | None:
    """What the workers do after each scan: the dashboard's figures for every scope; and the
    scan's record, so that the pages show no "the scan has not completed" warning (a served
    app has its workers running; round 1 measured every page with that warning)."""
    try:
        from ppp_tracker.reports import snapshots
    except ImportError:  # before the snapshot existed (the first measurement)
        return None
    from ppp_tracker import clock
    from ppp_tracker.alerts.models import ScanRun
    from ppp_tracker.db import db

    with app.app_context():
        start = time.perf_counter()
        snapshots.refresh(dataset.AS_OF)
        now = clock.now()
        db.session.add(
            ScanRun(trigger="bench", as_of=dataset.AS_OF, started_at=now, finished_at=now)
        )
        db.session.commit()
        seconds = time.perf_counter() - start
    log(f"  dashboard snapshots of every scope refreshed in {seconds:.1f} s", flush=True)
    return seconds


def _ratio(page: dict, baseline: dict) -> float:
    """A page's throughput ÷ its baseline's (0 when the baseline answered nothing: every server
    thread was still busy with the page before it)."""
    return page["rps"] / baseline["rps"] if baseline["rps"] else 0.0


def _loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure(base: str, url: str, page: str, path: str, cookie: str, args) -> dict:
    """wrk on `path` right after wrk on /healthz with the same session (the shared machine's
    speed drifts within a round: a baseline taken minutes earlier would measure the drift along
    with the page), under registry writes or logins for the pages measured so."""
    baseline = wrk(base, [(TRIVIAL, cookie)], connections=args.connections, seconds=args.seconds)
    if page in UNDER_WRITES:
        during = registry_writes(url)
    elif page in UNDER_LOGINS:
        during = logins(base)
    else:
        during = nullcontext([])
    with during as made:
        f = wrk(base, [(path, cookie)], connections=args.connections, seconds=args.seconds)
    f["logins" if page in UNDER_LOGINS else "registry_writes"] = len(made)
    f["trivial"] = baseline
    f["loadavg"] = _loadavg()
    return f


def _line(round_no: int, page: str, label: str, f: dict) -> str:
    base_f = f["trivial"]
    return (
        f"round {round_no + 1}: {page:<30} {label:<22} {f['rps']:>8.1f} req/s  "
        f"(/healthz {base_f['rps']:.1f})  ratio {_ratio(f, base_f):.2f}  "
        f"p50 {f['p50_ms']:.1f} ms  p99 {f['p99_ms']:.1f} ms  "
        f"errors {f['errors'] + base_f['errors']}"
        + (f"  writes {f['registry_writes']}" if page in UNDER_WRITES else "")
        + (f"  logins {f['logins']}" if page in UNDER_LOGINS else "")
        + f"  load average {f['loadavg']}"
    )


def summarize(rounds: list[dict], keys: list[tuple[str, str]]) -> dict:
    summary = {}
    for page, label in keys:
        key = f"{page} / {label}"
        ratios = [_ratio(r[key], r[key]["trivial"]) for r in rounds]
        p99 = [r[key]["p99_ms"] for r in rounds]
        summary[key] = {
            "rps": round(statistics.median(r[key]["rps"] for r in rounds), 1),
            "trivial_rps": round(statistics.median(r[key]["trivial"]["rps"] for r in rounds), 1),
            "ratio": round(statistics.median(ratios), 3),
            "p99_ms_worst": max(p99),
            "goal_met": (statistics.median(ratios) >= 0.5 and max(p99) < 100)
            if page in GOAL_PAGES
            else None,
        }
    return summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench web")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database", help="an existing data-set database (kept)")
    parser.add_argument("--only", help="measure only the pages whose name contains one of these")
    parser.add_argument(
        "--no-writes",
        action="store_true",
        help="leave out the pages under registry writes (at 1M each write makes the dashboard "
        "compute its figures again, which keeps the server busy into the next measurements)",
    )
    parser.add_argument(
        "--keep-snapshots",
        action="store_true",
        help="with --database: do not refresh the dashboard's snapshots first (they are fresh)",
    )
    args = parser.parse_args(argv)

    results: dict = {"as_of": dataset.AS_OF, "connections": args.connections}
    results.update(seconds=args.seconds, rounds=[])
    # The pages under writes last: a write makes the dashboard compute its figures again, which
    # at this size keeps the server busy for a while after the run.
    pages = {**PAGES, **UNDER_LOGINS, **UNDER_WRITES}
    if args.no_writes:
        pages = {page: path for page, path in pages.items() if page not in UNDER_WRITES}
    if args.only:
        wanted = args.only.split(",")
        pages = {page: path for page, path in pages.items() if any(w in page for w in wanted)}
    targets = [(page, path, label) for page, path in pages.items() for label in USERS]
    with bench_database(args.database) as (_name, url):
        if args.database and not args.keep_snapshots:
            from bench.common import make_app as _make

            results["snapshot_refresh_s"] = refresh_snapshots(_make(url))
        # Each worker process holds its share of wrk's connections (bench.serving.gunicorn).
        share = max(1, args.connections // WORKERS)
        with gunicorn(url, worker_connections=share) as (base, _process):
            cookies = {label: login(base, email) for label, email in USERS.items()}
            check(base, [(path, cookies[label]) for _n, path, label in targets])
            check(base, [(TRIVIAL, cookie) for cookie in cookies.values()])
            # One warm-up pass: the first requests of each worker load the calendar, templates.
            for _n, path, label in targets:
                wrk(base, [(path, cookies[label])], connections=2, seconds=2)
            for round_no in range(args.rounds):
                figures = {}
                for page, path, label in targets:
                    f = measure(base, url, page, path, cookies[label], args)
                    figures[f"{page} / {label}"] = f
                    print(_line(round_no, page, label, f), flush=True)
                results["rounds"].append(figures)
    summary = summarize(results["rounds"], [(page, label) for page, _p, label in targets])
    results["summary"] = summary
    print("\npage / user: throughput, /healthz's in the same rounds, ratio (median), worst p99")
    for key, s in summary.items():
        print(
            f"  {key:<48} {s['rps']:>8.1f} req/s vs {s['trivial_rps']:>8.1f}  "
            f"ratio {s['ratio']:.2f}  p99 {s['p99_ms_worst']:.1f} ms  "
            + {True: "goal met", False: "GOAL MISSED", None: "(no goal set)"}[s["goal_met"]]
        )
    print("saved", save("web", results))
    return 0 if all(s["goal_met"] is not False for s in summary.values()) else 1
