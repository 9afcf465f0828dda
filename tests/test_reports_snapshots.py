"""The dashboard's stored figures: computed by the workers after each scan, read by the page,
never older than the day they are for nor than two scan intervals."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import has_request_context
from flask_babel import force_locale, gettext

from ppp_tracker import clock
from ppp_tracker.alerts import jobs
from ppp_tracker.db import db
from ppp_tracker.reports import dashboard, snapshots
from ppp_tracker.reports.models import DashboardChart, DashboardSnapshot
from tests import factories
from tests.alerting import wait_for
from tests.conftest import login

NBSP = "\u00a0"


def _kpi(html: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}".*?<div class="display-6[^"]*">([^<]+)</div>', html, re.S)
    assert match, f"no card {key}"
    return match.group(1).strip()


def _refresh(day: date) -> None:
    snapshots.refresh(day)
    db.session.commit()


def test_the_page_shows_the_stored_figures_and_the_time_they_were_computed(
    client, make_user, set_today
):
    set_today("2014-06-12")
    contract = factories.contract("KZ-35", number="241", total_amount=Decimal("77000000.00"))
    factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    _refresh(date(2014, 6, 12))
    login(client, make_user("manager", None))
    html = client.get("/").get_data(as_text=True)
    assert _kpi(html, "overdue") == "1"
    assert _kpi(html, "penalties") == f"3{NBSP}003{NBSP}000,00{NBSP}₸"
    row = db.session.get(DashboardSnapshot, "*")
    shown = clock.to_local(row.computed_at).strftime("%H:%M")
    assert re.search(rf'id="computed-at"[^>]*>[^<]*{shown}<', html)

    # A change in the scope does not wait for the next refresh (issue 14: one truth at a time).
    factories.milestone(contract, title="Экспертиза", due_on=date(2014, 6, 2))
    html = client.get("/").get_data(as_text=True)
    assert _kpi(html, "overdue") == "2"
    assert "Экспертиза" in html.split('id="overdue-list"', 1)[1]


def test_figures_of_another_day_are_not_shown(client, make_user, set_today):
    """Penalties grow by the day: yesterday's figures are computed again for today."""
    set_today("2014-06-12")
    contract = factories.contract("KZ-35", number="241", total_amount=Decimal("77000000.00"))
    factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    _refresh(date(2014, 6, 11))
    login(client, make_user("manager", None))
    html = client.get("/").get_data(as_text=True)
    # 39 days late on 12.06.2014, not the 38 of the stored day.
    assert _kpi(html, "penalties") == f"3{NBSP}003{NBSP}000,00{NBSP}₸"
    db.session.expire_all()
    assert db.session.get(DashboardSnapshot, "*").as_of == date(2014, 6, 12)


def test_figures_older_than_two_scan_intervals_are_computed_again(
    app, client, make_user, set_today
):
    set_today("2014-06-12")
    contract = factories.contract("KZ-35")
    factories.milestone(contract, due_on=date(2014, 5, 1))
    _refresh(date(2014, 6, 12))
    factories.milestone(contract, due_on=date(2014, 5, 2))
    minutes = 2 * app.config["SCAN_INTERVAL_MINUTES"] + 1
    db.session.execute(
        sa.update(DashboardSnapshot).values(computed_at=clock.now() - timedelta(minutes=minutes))
    )
    db.session.commit()
    login(client, make_user("manager", None))
    assert _kpi(client.get("/").get_data(as_text=True), "overdue") == "2"


def test_each_region_reads_the_figures_of_its_own_scope(app, client, make_user, set_today):
    set_today("2014-06-12")
    mine = factories.contract("KZ-35", number="К-1")
    factories.milestone(mine, title="Своя просрочка", due_on=date(2014, 5, 5))
    other = factories.contract("KZ-63", number="ВК-1")
    factories.milestone(other, title="Чужая просрочка", due_on=date(2014, 5, 5))
    factories.milestone(other, title="Чужая вторая", due_on=date(2014, 5, 6))
    _refresh(date(2014, 6, 12))
    officer = make_user("officer", "KZ-35")
    manager = make_user("manager", None)
    # Every scope's stored figures are what computing that scope alone gives.
    for user in (officer, manager):
        stored = db.session.get(DashboardSnapshot, dashboard.scope_key(user)).data
        assert (
            stored
            == dashboard.compute(date(2014, 6, 12), dashboard.scope_key(user))[
                dashboard.scope_key(user)
            ].to_json()
        )

    login(client, officer)
    html = client.get("/").get_data(as_text=True)
    assert _kpi(html, "overdue") == "1"
    assert "Своя просрочка" in html and "Чужая просрочка" not in html and "ВК-1" not in html
    other_client = app.test_client()
    login(other_client, manager)
    html = other_client.get("/").get_data(as_text=True)
    assert _kpi(html, "overdue") == "3"
    regions = html.split('id="chart-regions"', 1)[1].split("</svg>", 1)[0]
    assert "Карагандинская область" in regions and "Восточно-Казахстанская область" in regions


def test_the_overview_draws_the_projects_with_most_overdue_first_and_counts_the_rest(
    client, make_user, set_today
):
    set_today("2014-06-12")
    quiet = []
    for n in range(dashboard.OVERVIEW_PROJECTS):
        project = factories.project("KZ-35", title=f"А-проект {n:02d}")
        contract = factories.contract("KZ-35", project_id=project.id)
        factories.milestone(contract, title=f"В срок {n}", due_on=date(2014, 8, 1))
        quiet.append(project)
    late = factories.project("KZ-35", title="Я-проект с просрочкой")
    contract = factories.contract("KZ-35", number="241", project_id=late.id)
    factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    _refresh(date(2014, 6, 12))
    login(client, make_user("manager", None))
    html = client.get("/").get_data(as_text=True)
    chart = html.split('id="chart-projects"', 1)[1].split("</svg>", 1)[0]
    assert "Я-проект с просрочкой" in chart
    assert "№ 241: Представление ТЭО" in chart and 'class="ms-overdue"' in chart
    drawn = [p for p in quiet if p.title in chart]
    assert len(drawn) == dashboard.OVERVIEW_PROJECTS - 1
    header = html.split('id="chart-projects"', 1)[1].split("</div>", 1)[0]
    # The contracts' own projects (one each, made by the factory) are in the scope too.
    more = int(re.search(r"Ещё (\d+) проект", header).group(1))
    assert more == db.session.scalar(sa.text("SELECT count(*) FROM projects")) - 12


def test_a_deadline_scan_in_a_real_worker_refreshes_the_dashboard(
    app, client, celery_worker, make_user, set_today
):
    set_today("2014-06-12")
    contract = factories.contract("KZ-35", number="241", total_amount=Decimal("77000000.00"))
    factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    db.session.commit()
    assert db.session.get(DashboardSnapshot, "*") is None
    jobs.run_scan(date(2014, 6, 12), trigger="cli")

    def stored():
        db.session.expire_all()
        row = db.session.get(DashboardSnapshot, "KZ-35")
        return row if row is not None and row.as_of == date(2014, 6, 12) else None

    row = wait_for(stored, message="the workers' dashboard refresh")
    assert row.data["overdue_count"] == 1
    assert row.data["penalties_total"] == "3003000.00"
    first = row.computed_at

    # Queued twice (two scans): the later figures stay, nothing breaks.
    factories.milestone(contract, title="Экспертиза", due_on=date(2014, 6, 2))
    db.session.commit()
    jobs.run_scan(date(2014, 6, 12), trigger="cli")
    row = wait_for(
        lambda: (r := stored()) is not None and r.computed_at > first and r,
        message="the second refresh",
    )
    assert row.data["overdue_count"] == 2
    login(client, make_user("officer", "KZ-35"))
    assert _kpi(client.get("/").get_data(as_text=True), "overdue") == "2"


@pytest.mark.parametrize(("minutes", "seconds", "lasts"), [(15, 0, 900), (15, 2, 2)])
def test_a_queued_refresh_expires_when_the_next_scan_queues_its_own(app, minutes, seconds, lasts):
    """The refresh queued after a scan is dropped unrun once the next scan has queued its own:
    after SCAN_INTERVAL_MINUTES, or SCAN_INTERVAL_SECONDS where beat runs every few seconds
    (the drills), not after minutes of refreshes waiting their turn. Read off the message on
    Redis as the worker would receive it."""
    from ppp_tracker.reports import queue_dashboard_refresh

    app.config.update(SCAN_INTERVAL_MINUTES=minutes, SCAN_INTERVAL_SECONDS=seconds)
    celery_app = app.extensions["celery"]
    queued_at = datetime.now(UTC)
    queue_dashboard_refresh(date(2014, 6, 12))
    with celery_app.connection_for_read() as conn:
        queue = conn.SimpleQueue(celery_app.conf.task_default_queue, no_ack=True)
        message = queue.get(timeout=5)
        queue.close()
    assert message.headers["task"] == "reports.refresh_dashboard"
    assert message.headers["argsrepr"] == "['2014-06-12']"
    expires = datetime.fromisoformat(message.headers["expires"])
    assert lasts - 1 <= (expires - queued_at).total_seconds() <= lasts + 1


def _charts(scope: str = "*") -> dict[str, DashboardChart]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(DashboardChart).where(DashboardChart.scope == scope))
    return {row.locale: row for row in rows}


def test_the_charts_are_stored_in_every_language_escaped_and_inserted_by_the_page(
    app, client, make_user, set_today
):
    """The refresh draws each scope's charts once per language; the page inserts its
    language's stored charts as they are, and draws them itself when they belong to other
    figures than the snapshot's."""
    set_today("2014-06-12")
    project = factories.project("KZ-35", title="Проект <b>жирный</b> & Co")
    contract = factories.contract("KZ-35", number="241", project_id=project.id)
    factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    _refresh(date(2014, 6, 12))
    charts = _charts()
    snapshot = db.session.get(DashboardSnapshot, "*")
    assert set(charts) == set(app.config["LANGUAGES"])
    assert {c.computed_at for c in charts.values()} == {snapshot.computed_at}
    for row in charts.values():
        # Drawn by our autoescaping templates: the project's title as text, never as markup.
        assert "Проект &lt;b&gt;жирный&lt;/b&gt; &amp; Co" in row.html
        assert "<b>жирный" not in row.html
        assert 'id="chart-projects"' in row.html and "№ 241: Представление ТЭО" in row.html
    with app.test_request_context(), force_locale("kk"):
        kazakh = gettext("Overdue obligations by region")
    assert kazakh != "Overdue obligations by region"
    assert kazakh in charts["kk"].html and kazakh not in charts["ru"].html

    stored = charts["ru"].html
    login(client, make_user("manager", None))
    html = client.get("/").get_data(as_text=True)
    assert stored in html
    # The page inserts what is stored (marked here), not a drawing of its own…
    marked = stored.replace('id="chart-regions"', 'id="chart-regions" data-stored')
    db.session.execute(
        sa.update(DashboardChart)
        .where(DashboardChart.scope == "*", DashboardChart.locale == "ru")
        .values(html=marked)
    )
    db.session.commit()
    assert 'id="chart-regions" data-stored' in client.get("/").get_data(as_text=True)
    # …and only while it belongs to the snapshot's figures.
    db.session.execute(
        sa.update(DashboardChart).values(computed_at=snapshot.computed_at - timedelta(minutes=1))
    )
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "data-stored" not in html
    assert stored in html


def test_the_charts_drawn_by_the_workers_link_under_the_base_url(app, monkeypatch, set_today):
    """Outside a request (a worker, the CLI), the charts' links are built under BASE_URL's path,
    like the pages the app serves there."""
    monkeypatch.setitem(app.config, "BASE_URL", "https://ppp.example.kz/tracker")
    set_today("2014-06-12")
    project = factories.project("KZ-35", title="Мастерская")
    contract = factories.contract("KZ-35", project_id=project.id)
    factories.milestone(contract, due_on=date(2014, 5, 1))
    assert not has_request_context()
    _refresh(date(2014, 6, 12))
    html = _charts()["en"].html
    assert 'href="/tracker/deadlines?region=KZ-35#overdue"' in html
    assert f'href="/tracker/projects/{project.id}"' in html
