"""Helpers of the alert tests: a contract with a milestone and its people, the scan, waiting."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask

from ppp_tracker.alerts import jobs
from ppp_tracker.alerts.models import Alert, AlertDelivery
from ppp_tracker.auth.services import create_user
from ppp_tracker.db import db
from tests import factories
from tests.conftest import PASSWORD
from tests.services import _purge


@dataclass
class World:
    officer: object
    manager: object
    contract: object
    milestone: object


def user(email: str, role: str, region: str | None, *, locale="ru", mode="immediate", name=None):
    obj, _ = create_user(
        email, role=role, region_code=region, password=PASSWORD, locale=locale, name=name
    )
    obj.alert_mode = mode
    db.session.commit()
    return obj


def karaganda(
    due_on: date = date(2014, 5, 1),
    *,
    officer_mode="immediate",
    officer_locale="ru",
    manager_mode="immediate",
) -> World:
    """Contract No. 241 of 21.11.2013 in Karaganda region with one milestone and its people."""
    officer = user(
        "officer@karaganda.kz",
        "officer",
        "KZ-35",
        locale=officer_locale,
        mode=officer_mode,
        name="Исполнитель Карагандинского ДУИС",
    )
    manager = user(
        "manager@kuis.kz", "manager", None, mode=manager_mode, name="Руководитель Комитета"
    )
    contractor = factories.party(name="АО «РЦГЧП Карагандинской области»")
    contract = factories.contract(
        "KZ-35", number="241", contractor_id=contractor.id, officer=officer.email
    )
    milestone = factories.milestone(
        contract, title="Представление ТЭО на государственную экспертизу", due_on=due_on
    )
    return World(officer, manager, contract, milestone)


def scan(as_of: date | str, **kwargs):
    as_of = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return jobs.run_scan(as_of, trigger="cli", **kwargs)


def alerts_of(milestone) -> list[tuple[str, date]]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Alert).where(Alert.milestone_id == milestone.id).order_by(Alert.id)
    ).all()
    return [(a.rule, a.effective_due_on) for a in rows]


def deliveries() -> list[AlertDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AlertDelivery).order_by(AlertDelivery.id)))


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1, message: str = ""):
    """Poll until `condition()` is true (a fresh read each time); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {message or condition}")
        time.sleep(interval)


@pytest.fixture
def purge_alert_queue(request, pg_app):
    """Empty this session's queues after a test that scanned without a worker, so no task is
    left behind in the shared Redis."""
    yield
    apps = {pg_app} | {v for v in request.node.funcargs.values() if isinstance(v, Flask)}
    for flask_app in apps:
        _purge(flask_app.extensions["celery"])
