"""Helpers of the fault drills (tests/test_drills.py): a batch of due and overdue work, an SMTP
sink that counts and can hold or go away, subprocess Celery workers and beats, private Redis and
PostgreSQL servers that can be killed, and the one final check every drill ends with."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import psycopg
import redis
import sqlalchemy as sa

from ppp_tracker.alerts.models import Alert, AlertDelivery
from ppp_tracker.claims.models import Claim, ClaimMilestone, ClaimNotice
from ppp_tracker.db import db
from tests import factories
from tests.alerting import user
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).parent / "celery")
#: The day of every drill: the batch's reminders and drafts are due then.
TODAY = date(2014, 6, 12)

# --- the batch ----------------------------------------------------------------------------------


@dataclass
class Batch:
    """What the drills expect: one e-mail per (recipient, milestone), one draft per overdue
    milestone, one notice per (draft, lawyer of its region)."""

    alerts: set[tuple[str, int]] = field(default_factory=set)
    overdue: dict[int, int] = field(default_factory=dict)  # milestone id -> contract id
    lawyers: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # region -> people

    @property
    def emails(self) -> int:
        return len(self.alerts) + len(self.overdue) * 2


def make_batch(contracts_per_region: int = 2, due_per_contract: int = 8) -> Batch:
    """Contracts in two regions, each with `due_per_contract` milestones due within a week and
    one long overdue (its reminder goes to the officer and the manager, and a claim is drafted
    and told to the region's lawyer and the head lawyer)."""
    batch = Batch()
    manager = user("manager@kuis.kz", "manager", None, name="Руководитель Комитета")
    head = user("head.lawyer@kuis.kz", "legal", None)
    for region in ("KZ-35", "KZ-71"):
        officer = user(f"officer-{region.lower()}@kuis.kz", "officer", region)
        lawyer = user(f"lawyer-{region.lower()}@kuis.kz", "legal", region)
        batch.lawyers[region] = [(head.id, head.email), (lawyer.id, lawyer.email)]
        for c in range(contracts_per_region):
            contract = factories.contract(
                region, number=f"{region[-2:]}-{c + 1}", officer=officer.email
            )
            for n in range(due_per_contract):
                m = factories.milestone(
                    contract, title=f"Отчёт № {n + 1}", due_on=date(2014, 6, 13 + n % 7)
                )
                batch.alerts.add((officer.email, m.id))
            late = factories.milestone(contract, title="Разработка ТЭО", due_on=date(2014, 5, 1))
            batch.alerts |= {(officer.email, late.id), (manager.email, late.id)}
            batch.overdue[late.id] = contract.id
    return batch


# --- the SMTP sink ------------------------------------------------------------------------------


class Sink:
    """A real SMTP server (aiosmtpd) on a fixed port that counts what it accepts.

    `hold(n)` / `hold_each(kinds, after)`: messages are held (the sender waits) until `release()`,
    then refused with a 4xx, so that a fault injected meanwhile meets sends in flight that did not
    arrive.
    `stop()` / `start()`: nobody listens on the port, then the server is back on it."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[dict] = []
        self.seen = 0
        self.lock = threading.Lock()
        self.wanted = None  # fn(n-th message, kind) -> hold it?
        self.held = threading.Event()
        self.released = threading.Event()
        self.controller = None
        #: Seconds each message takes to be accepted (a slow server: sends overlap longer).
        self.delay = 0.0

    def start(self) -> Sink:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.released.set()
            self.controller.stop()
            self.controller = None

    def hold(self, n: int, count: int = 1) -> None:
        """Hold the n-th message and the `count - 1` after it; `held` is set when all came."""
        self._hold(lambda seen, kind: n <= seen < n + count, count)

    def hold_each(self, kinds: tuple[str, ...], after: int) -> None:
        """Once `after` messages came, hold the next one of each kind ("alert", "claim": how its
        Message-ID begins); `held` is set when one of each is held."""
        waiting = set(kinds)

        def wanted(seen: int, kind: str) -> bool:
            if seen > after and kind in waiting:
                waiting.discard(kind)
                return True
            return False

        self._hold(wanted, len(kinds))

    def _hold(self, wanted, count: int) -> None:
        self.wanted, self.to_hold, self.holding = wanted, count, 0
        self.held, self.released = threading.Event(), threading.Event()

    def release(self) -> None:
        self.released.set()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        kind = str(message["Message-ID"]).strip("<").split("-", 1)[0]
        with self.lock:
            self.seen += 1
            hold = self.wanted is not None and self.wanted(self.seen, kind)
            if hold:
                self.holding += 1
                if self.holding == self.to_hold:
                    self.held.set()
        if hold:
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 the sender went away"
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "message": message})
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


# --- Celery processes ---------------------------------------------------------------------------


@dataclass
class Services:
    """Where the subprocesses find the database, the broker and the SMTP server."""

    database_url: str
    broker_url: str
    queue: str
    smtp_port: int
    tmp: Path
    env: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)

    def environ(self, extra: dict | None = None) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_QUEUE": self.queue,
            "PPP_INSTANCE_DIR": str(self.tmp),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.smtp_port),
            "MAIL_TIMEOUT": "10",
            "BASE_URL": "http://localhost",
            "FAKE_TODAY": TODAY.isoformat(),
            "SCAN_INTERVAL_SECONDS": "2",
            "ALERT_SEND_LEASE_SECONDS": "3",
            "ALERT_RETRY_BASE_SECONDS": "1",
            "ALERT_REQUEUE_AFTER_SECONDS": "4",
            "ALERT_SCAN_ON_WORKER_START": "0",
            **self.env,
            **(extra or {}),
        }

    def _spawn(self, name: str, args: list[str], extra: dict | None) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("a")
        process = subprocess.Popen(
            [CELERY, "-A", "workers", *args],
            cwd=ROOT,
            env=self.environ(extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole with killpg
        )
        process.name = name
        self.processes.append(process)
        return process

    def worker(
        self,
        name: str,
        *,
        pool: str = "solo",
        concurrency: int = 1,
        loglevel: str = "WARNING",
        **extra,
    ):
        return self._spawn(
            name,
            [
                "worker",
                "-Q",
                self.queue,
                "-n",
                f"{name}@%h",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                "--without-mingle",
                "--without-gossip",
                f"--loglevel={loglevel}",
            ],
            extra,
        )

    def beat(self, name: str, **extra):
        schedule = self.tmp / f"{name}-schedule"
        return self._spawn(name, ["beat", "-s", str(schedule), "--loglevel=WARNING"], extra)

    def logs(self) -> str:
        out = []
        for process in self.processes:
            path = self.tmp / f"{process.name}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            out.append(f"--- {process.name} (exit {process.poll()}) ---\n{text[-3000:]}")
        return "\n".join(out)

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the whole process group (a worker and its pool children) and reap it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill(process)


def forget_queue(broker_url: str, queue: str) -> None:
    """Leave nothing of this drill in a shared Redis: its queue and the unacknowledged messages
    a killed worker left."""
    redis.Redis.from_url(broker_url).delete(queue)
    forget_unacked(broker_url, queue)


def forget_unacked(broker_url: str, queue: str) -> None:
    """Drop the unacknowledged messages a killed worker left for `queue` (Redis would hand them
    back only after the visibility timeout, long after the test)."""
    client = redis.Redis.from_url(broker_url)
    for tag, payload in client.hscan_iter("unacked"):
        try:
            routing_key = json.loads(payload)[2]
        except (ValueError, IndexError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


# --- waiting ------------------------------------------------------------------------------------


def poll(condition, *, timeout: float, what: str, services: Services | None = None):
    """Poll `condition()` (each time on a fresh transaction) until true, or fail with the logs."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = services.logs() if services else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
        time.sleep(0.2)


def settled(batch: Batch, sink: Sink) -> bool:
    """Everything of the batch is recorded as sent and the sink has as many e-mails."""
    sent = db.session.scalar(
        sa.select(sa.func.count(AlertDelivery.id)).where(AlertDelivery.status == "sent")
    )
    notices = db.session.scalar(
        sa.select(sa.func.count(ClaimNotice.id)).where(ClaimNotice.status == "sent")
    )
    return (
        sent == len(batch.alerts)
        and notices == len(batch.overdue) * 2
        and sink.count() >= batch.emails
    )


# --- the final check ----------------------------------------------------------------------------


def assert_exactly_once(batch: Batch, sink: Sink) -> None:
    """Every alert delivered exactly once, every claim draft present once, each lawyer told once:
    by the SMTP server's count and Message-IDs, and by the database."""
    db.session.rollback()
    messages = list(sink.messages)
    ids = [m["message"]["Message-ID"] for m in messages]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"the same Message-ID arrived twice: {duplicates}"
    assert len(messages) == batch.emails, (len(messages), batch.emails)

    # Alerts: the deliveries table, then what arrived, each as (recipient, milestone, rule).
    rows = db.session.execute(
        sa.select(AlertDelivery, Alert)
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .order_by(AlertDelivery.id)
    ).all()
    assert len(rows) == len(batch.alerts)
    assert {d.status for d, _ in rows} == {"sent"}
    by_id = {f"<alert-{d.id}@ppp-tracker>": (d.sent_to, a.milestone_id, a.rule) for d, a in rows}
    assert Counter((to, m) for to, m, _ in by_id.values()) == Counter(batch.alerts)
    arrived = [
        (m["to"][0], *by_id[m["message"]["Message-ID"]][1:])
        for m in messages
        if m["message"]["Message-ID"].startswith("<alert-")
    ]
    assert len(arrived) == len(set(arrived)) == len(batch.alerts)
    assert {(to, m) for to, m, _ in arrived} == batch.alerts

    # Claims: one draft per overdue milestone, each milestone in one claim line.
    claims = db.session.scalars(sa.select(Claim).order_by(Claim.id)).all()
    lines = db.session.scalars(sa.select(ClaimMilestone)).all()
    assert len(claims) == len(batch.overdue)
    assert sorted(line.milestone_id for line in lines) == sorted(batch.overdue)
    assert {c.contract_id for c in claims} == set(batch.overdue.values())
    assert {str(c.status) for c in claims} == {"draft"}

    # Notices: each lawyer of the claim's region (and the head lawyer) told once.
    expected = {
        (f"<claim-{c.id}-drafted-{uid}@ppp-tracker>", email)
        for c in claims
        for uid, email in batch.lawyers[c.region_code]
    }
    told = [
        (m["message"]["Message-ID"], m["to"][0])
        for m in messages
        if m["message"]["Message-ID"].startswith("<claim-")
    ]
    assert len(told) == len(set(told)) and set(told) == expected
    notices = db.session.scalars(sa.select(ClaimNotice)).all()
    assert len(notices) == len(expected)
    assert {str(n.status) for n in notices} == {"sent"}


# --- private servers that a drill may kill ------------------------------------------------------


class PrivateRedis:
    """`redis-server` on a free port, keeping nothing on disk: killed, it loses every message."""

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.tmp = tmp
        self.process = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        log = (self.tmp / "redis.log").open("a")
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        kill(self.process)


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb), run as the `postgres` user on a free port."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ppp-drill-pg-"))
        self.dir.chmod(0o777)
        self.data = self.dir / "data"
        self.log = self.dir / "pg.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/drill"

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> PrivatePostgres:
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )
        self.start()
        with psycopg.connect(self._admin(), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "drill"')
        return self

    def _admin(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1",
            "-l",
            str(self.log),
            "-w",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
