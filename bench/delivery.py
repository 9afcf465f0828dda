"""10,000 alerts delivered through Celery (Redis, real worker processes) to a local SMTP sink,
against a plain smtplib loop sending the same 10,000 messages to the same kind of sink.

    python -m bench delivery [--alerts 10000] [--concurrency 2]

The Celery path is what production does: the deliveries queued as the scan queues them (tasks
of up to 100), each task claiming its batch in one statement, composing the e-mails in the
recipients' language (penalty, explanation, links), sending them over one SMTP connection and
committing each one's attempt and outcome. The baselines send messages composed beforehand: a
plain smtplib loop with a connection per message, and with one connection for all. Everything
runs on this machine: the ratios (throughput of Celery ÷ throughput of the loop, measured in
the same run), not the absolute times, are the result. Goal: ≥ 0.5 of the loop with a connection
per message, 0 duplicates, 0 lost.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg

from bench.common import REDIS_URL, make_app, pg_database, psycopg_url, save
from bench.scan import CONTRACTS, SETUP

AS_OF = date(2025, 6, 2)
ROOT = Path(__file__).resolve().parent.parent

DUE = """
INSERT INTO milestones (id, contract_id, title, type, obligor, due_on, effective_due_on, status,
                        created_at, updated_at)
  SELECT g, 1 + g %% %(contracts)s, 'Представление отчёта № ' || g, 'delivery', 'contractor',
         %(as_of)s::date + 7, %(as_of)s::date + 7, 'scheduled', now(), now()
    FROM generate_series(1, %(n)s::int) AS g;
INSERT INTO alert_plans (milestone_id, effective_due_on, next_alert_on)
  SELECT id, effective_due_on, %(as_of)s::date FROM milestones;
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """The SMTP sink in a process of its own (so it does not share the GIL with the sender)."""

    def __init__(self, workdir: Path, name: str):
        self.port = free_port()
        self.status = workdir / f"{name}.json"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", str(self.port), str(self.status)],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 30
        while not self.status.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)

    def counts(self) -> dict:
        return json.loads(self.status.read_text())

    def wait_for(self, count: int, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            data = self.counts()
            if data["count"] >= count or time.monotonic() > deadline:
                return data
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def start_worker(url: str, queue: str, sink: Sink, concurrency: int, workdir: Path):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_QUEUE": queue,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "PPP_INSTANCE_DIR": str(workdir),
        "ALERT_SCAN_ON_WORKER_START": "0",
    }
    log = workdir / "worker.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "workers",
            "worker",
            "-Q",
            queue,
            "-n",
            f"bench-{queue}@%h",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while " ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the worker did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.1)
    return process


def stop_worker(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def purge(celery_app) -> None:
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(celery_app.conf.task_default_queue)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench delivery")
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    n = args.alerts

    from config import load_config

    queue = f"ppp-bench-{uuid.uuid4().hex[:8]}"
    celery = {
        **load_config()["CELERY"],
        "broker_url": REDIS_URL,
        "result_backend": None,
        "task_default_queue": queue,
    }
    results: dict = {"alerts": n, "concurrency": args.concurrency, "cpus": os.cpu_count()}
    workdir = Path(tempfile.mkdtemp(prefix="ppp-bench-delivery-"))
    with pg_database("ppp_bench_delivery") as (name, url):
        sink = Sink(workdir, "celery")
        app = make_app(url, CELERY=celery, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
        celery_app = app.extensions["celery"]
        from ppp_tracker.alerts import compose, scan
        from ppp_tracker.alerts.models import AlertDelivery
        from ppp_tracker.core.mail import build_message
        from ppp_tracker.db import db

        with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
            for statement in SETUP.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"contracts": CONTRACTS})
            for statement in DUE.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"contracts": CONTRACTS, "as_of": AS_OF, "n": n})
        with app.app_context():
            ids: list[int] = []
            while True:
                batch = scan.scan_batch(AS_OF, limit=1000)
                db.session.commit()
                ids.extend(batch.immediate_ids)
                if batch.selected < 1000:
                    break
            assert len(ids) == n, len(ids)
            # The same messages for the baselines, composed beforehand (not timed).
            messages = [
                build_message(compose.alert_email(db.session.get(AlertDelivery, i))) for i in ids
            ]
            db.session.remove()

        worker = start_worker(url, queue, sink, args.concurrency, workdir)
        try:
            from ppp_tracker.alerts import jobs

            start = time.perf_counter()
            with app.app_context():
                jobs._queue_deliveries(ids)  # as the scan queues them
            queued = time.perf_counter() - start
            with psycopg.connect(psycopg_url(name), autocommit=True) as conn:
                while True:
                    sent = conn.execute(
                        "SELECT count(*) FROM alert_deliveries WHERE status = 'sent'"
                    ).fetchone()[0]
                    if sent >= n:
                        break
                    time.sleep(0.05)
                celery_seconds = time.perf_counter() - start
                attempts = conn.execute("SELECT sum(attempts) FROM alert_deliveries").fetchone()[0]
        finally:
            stop_worker(worker)
            purge(celery_app)
            sink_counts = sink.wait_for(n, timeout=10)
            sink.stop()
        results["celery"] = {
            "seconds": round(celery_seconds, 2),
            "per_second": round(n / celery_seconds, 1),
            "queueing_seconds": round(queued, 2),
            "sink": sink_counts,
            "attempts": attempts,
        }
        print(
            f"Celery ({args.concurrency} worker processes): {n} alerts in {celery_seconds:.2f} s "
            f"({n / celery_seconds:.0f}/s; queueing took {queued:.2f} s); the sink got "
            f"{sink_counts['count']} messages, {sink_counts['distinct']} distinct; "
            f"{attempts} attempts",
            flush=True,
        )

        for label, one_connection in (("smtplib_per_message", False), ("smtplib_one", True)):
            sink = Sink(workdir, label)
            start = time.perf_counter()
            if one_connection:
                with smtplib.SMTP("127.0.0.1", sink.port, timeout=20) as smtp:
                    for message in messages:
                        smtp.send_message(message)
            else:
                for message in messages:
                    with smtplib.SMTP("127.0.0.1", sink.port, timeout=20) as smtp:
                        smtp.send_message(message)
            seconds = time.perf_counter() - start
            counts = sink.wait_for(n, timeout=30)
            sink.stop()
            results[label] = {
                "seconds": round(seconds, 2),
                "per_second": round(n / seconds, 1),
                "sink": counts,
                "celery_ratio": round(celery_seconds / seconds, 2),
                "throughput_ratio": round(seconds / celery_seconds, 2),
            }
            how = "one connection" if one_connection else "a connection per message"
            print(
                f"plain smtplib loop, {how}: {seconds:.2f} s ({n / seconds:.0f}/s); "
                f"Celery's throughput is {seconds / celery_seconds:.2f}× the loop's",
                flush=True,
            )
        with app.app_context():
            db.engine.dispose()
    exact = sink_counts["count"] == sink_counts["distinct"] == n
    results["exactly_once"] = exact
    print(
        f"ratio to the loop with a connection per message: "
        f"{results['smtplib_per_message']['throughput_ratio']:.2f} (goal ≥ 0.5); "
        f"{'no duplicate, none lost' if exact else 'NOT EXACTLY ONCE'}"
    )
    print("saved", save("delivery", results))
    return 0
