"""One truth at a time: right after a change, the dashboard shows what the deadlines page and the
overdue report show; the all-regions figures are combined from the regions' without going again
through the regions that did not change; a manager can compute them again on demand."""

from __future__ import annotations

import re
import zlib
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.db import db
from ppp_tracker.reports import dashboard, snapshots
from ppp_tracker.reports.models import DashboardSnapshot
from tests import factories
from tests.conftest import PASSWORD, login, post_form


@pytest.fixture
def set_day(any_app):
    """Today, for the app under test (PostgreSQL or SQLite)."""

    def _set(day: str) -> None:
        any_app.config["FAKE_TODAY"] = date.fromisoformat(day)

    return _set


@pytest.fixture
def new_user(any_app):
    from ppp_tracker.auth.services import create_user

    made = []

    def _make(role: str, region: str | None):
        user, _ = create_user(
            f"{role}{len(made)}@example.kz", role=role, region_code=region, password=PASSWORD
        )
        db.session.commit()
        made.append(user)
        return user

    return _make


def _kpi(html: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}".*?<div class="display-6[^"]*">([^<]+)</div>', html, re.S)
    assert match, f"no card {key}"
    return match.group(1).strip()


def _deadlines_overdue(html: str) -> int:
    match = re.search(r'id="overdue".*?<span class="badge[^"]*">([^<]+)</span>', html, re.S)
    assert match, "no overdue count on the deadlines page"
    return int(match.group(1).replace("\u00a0", ""))


def _world():
    """Karaganda: two obligations late on 12.06.2014; East Kazakhstan: one."""
    karaganda = factories.contract("KZ-35", number="241", total_amount=Decimal("77000000.00"))
    first = factories.milestone(karaganda, title="Представление ТЭО", due_on=date(2014, 5, 5))
    factories.milestone(karaganda, title="Экспертиза", due_on=date(2014, 6, 2))
    east = factories.contract("KZ-63", number="ВК-1")
    factories.milestone(east, title="Чужая просрочка", due_on=date(2014, 5, 6))
    return first


def test_marking_a_milestone_met_changes_the_dashboard_at_once_in_its_region_and_all_regions(
    any_app, new_user, set_day
):
    set_day("2014-06-12")
    first = _world()
    # The workers stored every scope's figures a moment ago.
    snapshots.refresh(date(2014, 6, 12))
    db.session.commit()
    officer, manager = new_user("officer", "KZ-35"), new_user("manager", None)
    officer_client, manager_client = any_app.test_client(), any_app.test_client()
    login(officer_client, officer)
    login(manager_client, manager)
    assert _kpi(officer_client.get("/").get_data(as_text=True), "overdue") == "2"
    assert _kpi(manager_client.get("/").get_data(as_text=True), "overdue") == "3"

    r = post_form(
        officer_client,
        f"/milestones/{first.id}/met",
        {"met_on": "2014-06-11", "note": ""},
        form_url=f"/milestones/{first.id}",
    )
    assert r.status_code == 302

    # The next load of each dashboard counts one fewer, as the deadlines page does.
    officer_home = officer_client.get("/").get_data(as_text=True)
    manager_home = manager_client.get("/").get_data(as_text=True)
    assert _kpi(officer_home, "overdue") == "1"
    assert _kpi(manager_home, "overdue") == "2"
    assert "Представление ТЭО" not in officer_home.split('id="overdue-list"', 1)[1]
    assert _deadlines_overdue(officer_client.get("/deadlines").get_data(as_text=True)) == 1
    assert _deadlines_overdue(manager_client.get("/deadlines").get_data(as_text=True)) == 2


def test_the_all_regions_figures_combined_from_the_regions_equal_the_figures_of_one_pass(
    any_app, set_day
):
    set_day("2014-06-12")
    _world()
    project = factories.project(
        "KZ-63",
        title="ИУ в Усть-Каменогорске",
        stages=[{"kind": "economic_conclusion", "planned_on": date(2014, 1, 15)}],
    )
    with_project = factories.contract("KZ-63", number="ВК-2", project_id=project.id)
    factories.milestone(with_project, title="ТЭО", due_on=date(2014, 6, 20))
    factories.milestone(with_project, title="Оплата", due_on=date(2014, 4, 1), obligor="customer")
    site = factories.site("KZ-11")
    on_site = factories.contract("KZ-11", number="А-1", site_id=site.id)
    factories.milestone(on_site, title="Аренда", due_on=date(2014, 6, 14))
    day = date(2014, 6, 12)
    boards = dashboard.compute(day)
    regions = {code: board for code, board in boards.items() if code != dashboard.ALL_REGIONS}
    combined = dashboard.combine(day, regions)
    assert combined.to_json() == boards[dashboard.ALL_REGIONS].to_json()
    # Three obligations of the contractors and the customer's payment are late; two regions.
    assert combined.overdue_count == 4 and len(combined.by_region) == 2
    # As stored and read back, too.
    read_back = {c: dashboard.Dashboard.from_json(b.to_json()) for c, b in regions.items()}
    assert dashboard.combine(day, read_back).to_json() == combined.to_json()


def test_figures_computed_before_a_change_are_not_taken_for_figures_after_it(
    any_app, new_user, set_day
):
    set_day("2014-06-12")
    first = _world()
    manager = new_user("manager", None)
    seen = snapshots.stored(manager, date(2014, 6, 12), "ru")
    assert isinstance(seen, snapshots.Stale)
    board = dashboard.compute(date(2014, 6, 12), dashboard.ALL_REGIONS)[dashboard.ALL_REGIONS]
    # Meanwhile another request marks a milestone met and commits.
    from ppp_tracker.auth.access import SYSTEM_USER
    from ppp_tracker.registry.services.milestones import mark_met

    mark_met(SYSTEM_USER, first, date(2014, 6, 11), None)
    db.session.commit()
    snapshots._upsert(dashboard.ALL_REGIONS, board, snapshots.clock.now(), seen.generation)
    db.session.commit()
    # The figures stored last are of before the change: not shown as current.
    assert isinstance(snapshots.stored(manager, date(2014, 6, 12), "ru"), snapshots.Stale)
    assert snapshots.dashboard_for(manager, date(2014, 6, 12), "ru").overdue_count == 2


def test_a_manager_recomputes_the_figures_and_the_audit_log_says_so(any_app, new_user, set_day):
    set_day("2014-06-12")
    _world()
    manager = new_user("manager", None)
    client = any_app.test_client()
    login(client, manager)
    home = client.get("/").get_data(as_text=True)
    assert 'id="refresh-figures"' in home
    before = db.session.get(DashboardSnapshot, dashboard.ALL_REGIONS).computed_at
    r = post_form(client, "/dashboard/refresh", {}, form_url="/")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(DashboardSnapshot, dashboard.ALL_REGIONS).computed_at > before
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "refresh")).one()
    assert event.actor == manager.email and event.entity_id == dashboard.ALL_REGIONS
    assert "Показатели пересчитаны" in client.get("/").get_data(as_text=True)
    # Without the form's token nothing is recomputed.
    assert client.post("/dashboard/refresh").status_code == 400
    viewer_client = any_app.test_client()
    login(viewer_client, new_user("viewer", None))
    assert 'id="refresh-figures"' not in viewer_client.get("/").get_data(as_text=True)


def test_while_a_scope_is_computed_the_others_show_its_last_figures_marked_as_being_updated(app):
    """On a large registry a scope's figures take seconds: after a change, the request that
    computes them holds the scope's lock, and the others show the day's last stored figures
    with a note instead of computing the same figures beside it (PostgreSQL; the embedded
    SQLite default runs one process)."""
    from ppp_tracker.auth.services import create_user

    app.config["FAKE_TODAY"] = date(2014, 6, 12)
    first = _world()
    snapshots.refresh(date(2014, 6, 12))
    officer, _ = create_user(
        "officer@example.kz", role="officer", region_code="KZ-35", password=PASSWORD
    )
    db.session.commit()
    client = app.test_client()
    login(client, officer)
    assert _kpi(client.get("/").get_data(as_text=True), "overdue") == "2"
    stored_at = db.session.scalar(
        sa.select(DashboardSnapshot.computed_at).where(DashboardSnapshot.scope == "KZ-35")
    )
    r = post_form(
        client,
        f"/milestones/{first.id}/met",
        {"met_on": "2014-06-11", "note": ""},
        form_url=f"/milestones/{first.id}",
    )
    assert r.status_code == 302

    # Another request is computing KZ-35 (it holds the scope's lock in its transaction).
    key = zlib.crc32(b"dashboard:KZ-35")
    with db.engine.connect() as other:
        assert other.scalar(sa.select(sa.func.pg_try_advisory_lock(key)))
        busy = client.get("/").get_data(as_text=True)
        assert _kpi(busy, "overdue") == "2"  # the last stored figures…
        assert 'id="figures-updating"' in busy  # …said to be updated
        assert "обновляются после изменения" in busy
        db.session.rollback()
        assert (
            db.session.scalar(
                sa.select(DashboardSnapshot.computed_at).where(DashboardSnapshot.scope == "KZ-35")
            )
            == stored_at
        )  # not computed beside the other request
        other.scalar(sa.select(sa.func.pg_advisory_unlock(key)))

    # Once it is done (here: the lock is free), the next request shows the new figures.
    done = client.get("/").get_data(as_text=True)
    assert _kpi(done, "overdue") == "1"
    assert 'id="figures-updating"' not in done
