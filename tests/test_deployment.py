"""The deployment of docs/deploy.md, started from its own files: the systemd units in deploy/
(their ExecStart, Environment and EnvironmentFile are parsed and run as systemd would, not copied
here) with the env file deploy/ppp-tracker.env — gunicorn, a prefork Celery worker and one beat,
`PPP_ENV=production`, on a PostgreSQL database and a Redis queue of their own, behind what nginx
sends (TRUSTED_PROXIES=1). Over HTTP: a user logs in, a letter is rendered; beat's scan plans an
alert and the worker delivers it to a real SMTP server."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shlex
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bench.serving import GUNICORN_CONF
from ppp_tracker import create_app
from ppp_tracker.alerts.models import ScanRun
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import drafting, sending
from ppp_tracker.db import db
from tests import factories
from tests.conftest import PASSWORD, PG_HOST, _create_pg_database, _drop_pg_database, base_config
from tests.services import SmtpSink, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
#: Where docs/deploy.md installs the app; here, this checkout (with its .venv) stands for it.
INSTALL_DIR = "/opt/ppp-tracker"
UNITS = ("ppp-tracker-web.service", "ppp-tracker-worker.service", "ppp-tracker-beat.service")


def parse_unit(path: Path) -> dict[str, list[str]]:
    """The [Service] settings of a systemd unit: name -> values (a setting may repeat)."""
    settings: dict[str, list[str]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "Service":
            key, _sep, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def parse_env_file(path: Path) -> dict[str, str]:
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"')
    return env


def expand(command: str, env: dict[str, str]) -> str:
    """systemd's ${VAR} and $VAR in a command line."""

    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in env:
            raise KeyError(f"{name} is used by a unit but set nowhere")
        return env[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, command)


def command_of(unit: dict[str, list[str]], env: dict[str, str]) -> list[str]:
    [exec_start] = unit["ExecStart"]
    argv = shlex.split(expand(exec_start, env))
    return [arg.replace(INSTALL_DIR, str(ROOT), 1) if arg.startswith(INSTALL_DIR) else arg
            for arg in argv]  # fmt: skip


def test_the_units_run_the_installed_app_with_the_env_file():
    env_file = parse_env_file(DEPLOY / "ppp-tracker.env")
    assert env_file["PPP_ENV"] == "production" and env_file["TRUSTED_PROXIES"] == "1"
    for name in UNITS:
        unit = parse_unit(DEPLOY / name)
        assert unit["EnvironmentFile"] == ["/etc/ppp-tracker/ppp-tracker.env"], name
        assert unit["WorkingDirectory"] == [INSTALL_DIR], name
        assert unit["User"] == ["ppp"], name  # never root
        # every variable a unit uses is set by the env file (or by systemd: StateDirectory=)
        command_of(unit, {**env_file, "STATE_DIRECTORY": "/var/lib/ppp-tracker"})
    worker = " ".join(parse_unit(DEPLOY / "ppp-tracker-worker.service")["ExecStart"])
    assert "--pool=prefork" in worker
    # gunicorn's settings (gthread, 4 threads) are the file the web benchmarks serve with too
    web = command_of(parse_unit(DEPLOY / "ppp-tracker-web.service"), env_file)
    assert web[web.index("--config") + 1] == str(GUNICORN_CONF)
    # the guide names every file it installs, and only files that exist
    guide = (ROOT / "docs" / "deploy.md").read_text()
    assert {p.name for p in DEPLOY.iterdir()} == set(re.findall(r"`deploy/([\w.-]+)`", guide))


class Topology:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.tmp / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    def check_running(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, f"{name} exited {process.returncode}\n{self.logs()}"

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class Browser:
    """HTTP as a browser behind nginx sends it: over TLS for the app (X-Forwarded-Proto), from a
    client address (X-Forwarded-For), with the cookies it was given (Secure ones too: the TLS is
    nginx's)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.host = f"127.0.0.1:{port}"

    def request(self, method: str, path: str, form: dict | None = None, referer: str = "/"):
        headers = {
            "Host": self.host,
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "Referer": f"https://{self.host}{referer}",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response, data


def _wait(condition, timeout: float, what: str, topology: Topology):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        topology.check_running()
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{topology.logs()}")


def _healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def test_the_documented_topology_serves_logs_in_renders_and_delivers(tmp_path):
    from aiosmtpd.controller import Controller

    database = _create_pg_database()
    url = f"{PG_HOST}/{database}"
    queue = f"ppp-deploy-{uuid.uuid4().hex[:8]}"
    sink = SmtpSink()
    smtp_port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    web_port = free_port()
    state = tmp_path / "state"
    state.mkdir()
    topology = Topology(tmp_path)
    # The env file with what is this installation's own: its secrets, database, queue, mail
    # server, address. Only settings the env file names are changed (it names all a production
    # needs), plus the scan's interval in seconds and what systemd itself sets.
    env_file = parse_env_file(DEPLOY / "ppp-tracker.env")
    own = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6379/1",
        "CELERY_QUEUE": queue,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "MAIL_USE_TLS": "false",
        "BASE_URL": f"https://127.0.0.1:{web_port}",
        "PPP_BIND": f"127.0.0.1:{web_port}",
        "WEB_WORKERS": "2",
        "WORKER_CONCURRENCY": "2",
    }
    assert set(own) <= set(env_file), set(own) - set(env_file)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        **env_file,
        **own,
        "SCAN_INTERVAL_SECONDS": "3",
        # the alert below must come from beat's scan, not from the worker's start
        "ALERT_SCAN_ON_WORKER_START": "false",
        "STATE_DIRECTORY": str(state),  # systemd's, from StateDirectory=
    }
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
    try:
        # docs/deploy.md: install, then `flask db upgrade`, then a first user
        done = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        done = subprocess.run(
            [*flask, "users", "create", "officer@deploy.kz", "--role", "officer",
             "--region", "KZ-35", "--password", PASSWORD],
            cwd=ROOT, env=env, capture_output=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        claim_id = _records(url, queue)

        for name in UNITS:
            unit = parse_unit(DEPLOY / name)
            topology.start(name.split(".")[0], command_of(unit, env), env)
        _wait(lambda: _healthy(web_port), 90, "gunicorn", topology)

        browser = Browser(web_port)
        response, page = browser.request("GET", "/login")
        assert response.status == 200
        assert response.getheader("Strict-Transport-Security")
        assert not response.getheader("Server", "").lower().startswith("werkzeug")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        response, _ = browser.request(
            "POST",
            "/login",
            {"email": "officer@deploy.kz", "password": PASSWORD, "csrf_token": token},
            referer="/login",
        )
        assert response.status == 302, _.decode()[:2000]
        assert all("Secure" in c for c in response.headers.get_all("Set-Cookie") or [])
        response, page = browser.request("GET", "/profile")
        assert response.status == 200 and b"officer@deploy.kz" in page

        response, pdf = browser.request("GET", f"/claims/{claim_id}/letter.pdf?lang=ru")
        assert response.status == 200 and pdf.startswith(b"%PDF")
        (tmp_path / "letter.pdf").write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", str(tmp_path / "letter.pdf"), "-"], capture_output=True, text=True
        ).stdout
        assert "14-28-9-" in text and "ПРЕТЕНЗИЯ" in text

        message = _wait(
            lambda: next((m for m in list(sink.messages) if "officer@deploy.kz" in m["to"]), None),
            120,
            "the alert e-mail",
            topology,
        )
        assert "Представление ТЭО" in message["message"].get_body(("plain",)).get_content()
        assert _beat_scanned(url)
        topology.check_running()
    finally:
        topology.stop()
        smtp.stop()
        _purge(queue)
        _drop_pg_database(database)


def _records(url: str, queue: str) -> int:
    """What the users would have entered: a contract with an overdue obligation of the officer,
    and a claim sent about it (through the services, in this process, on the same database)."""
    config = base_config(url, None)
    config["CELERY"] = {**config["CELERY"], "task_default_queue": queue}
    app = create_app(config)
    with app.app_context():
        from ppp_tracker import clock

        today = clock.today()
        contractor = factories.party(name="АО «РЦГЧП Карагандинской области»")
        contract = factories.contract(
            "KZ-35", contractor_id=contractor.id, officer="officer@deploy.kz"
        )
        milestone = factories.milestone(
            contract,
            title="Представление ТЭО на государственную экспертизу",
            due_on=today - timedelta(days=5),
        )
        claim = drafting.create_claim(
            SYSTEM_USER, contract, {"milestone_ids": [milestone.id], "as_of": today}
        )
        sending.approve_claim(SYSTEM_USER, claim)
        sending.send_claim(SYSTEM_USER, claim, today, acknowledge_kazakh_gaps=True)
        db.session.commit()
        claim_id = claim.id
        db.session.remove()
        db.engine.dispose()
    return claim_id


def _beat_scanned(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            triggers = connection.execute(sa.select(ScanRun.trigger)).scalars().all()
    finally:
        engine.dispose()
    return "beat" in triggers


def _purge(queue: str) -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    client.delete(queue)
    client.close()
