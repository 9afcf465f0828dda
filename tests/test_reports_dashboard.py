"""The dashboard and the timeline: the numbers a manager sees, in their scope, and the charts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.core.calendar import forget_calendar
from ppp_tracker.db import db
from ppp_tracker.registry.services.projects import save_project
from ppp_tracker.reports import dashboard, snapshots
from ppp_tracker.reports.dashboard import DASHBOARD_WIDGETS, Widget
from tests import factories
from tests.conftest import login, post_form
from tests.test_versions import forget_bodies, kept_bodies

NBSP = "\u00a0"


def _kpi(html: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}".*?<div class="display-6[^"]*">([^<]+)</div>', html, re.S)
    assert match, f"no card {key}"
    return match.group(1).strip()


@pytest.fixture
def karaganda_case(set_today):
    """Contract No. 241 (77,000,000.00, 0.1 % a day, no cap) with the TEO due 01.05.2014, which
    moved to 04.05.2014 (days off); on 12.06.2014 it is 39 days late."""
    set_today("2014-06-12")
    contract = factories.contract("KZ-35", number="241", total_amount=Decimal("77000000.00"))
    late = factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    soon = factories.milestone(contract, title="Экспертиза", due_on=date(2014, 6, 16))
    later = factories.milestone(contract, title="Оплата", due_on=date(2014, 7, 1))
    return contract, late, soon, later


def test_the_dashboard_shows_overdue_due_soon_and_the_penalty(client, make_user, karaganda_case):
    login(client, make_user("manager", None))
    html = client.get("/").get_data(as_text=True)
    assert _kpi(html, "overdue") == "1"
    assert _kpi(html, "due7") == "1"  # 16.06.2014 is within 7 days of 12.06.2014
    assert _kpi(html, "due30") == "2"
    # 77,000,000.00 × 0.1 % × 39 days (DESIGN.md section 4)
    assert _kpi(html, "penalties") == f"3{NBSP}003{NBSP}000,00{NBSP}₸"
    assert "Представление ТЭО" in html and "39" in html


def test_the_dashboard_counts_sites_and_convicts_employed_in_the_users_scope(
    client, make_user, set_today
):
    set_today("2014-06-12")
    factories.site("KZ-35", arrangement="lease", employed=40)
    factories.site("KZ-35", arrangement="trust_management", employed=15)
    factories.site("KZ-63", arrangement="lease", employed=1000)
    login(client, make_user("officer", "KZ-35"))
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'id="employed-total">55<', html)
    sites = html.split('data-kpi="sites"', 1)[1].split("</table>", 1)[0]
    assert re.search(r">1</td><td[^>]*>40<", sites) and re.search(r">1</td><td[^>]*>15<", sites)


def test_another_regions_overdue_obligations_stay_out_of_the_officers_dashboard(
    client, make_user, set_today
):
    set_today("2014-06-12")
    other = factories.contract("KZ-63", number="ВК-1")
    factories.milestone(other, title="Чужая просрочка", due_on=date(2014, 5, 5))
    login(client, make_user("officer", "KZ-35"))
    html = client.get("/").get_data(as_text=True)
    assert _kpi(html, "overdue") == "0"
    assert "Чужая просрочка" not in html and "ВК-1" not in html


def test_overdue_by_region_and_penalty_exposure_are_drawn_as_svg(client, make_user, karaganda_case):
    login(client, make_user("manager", None))
    html = client.get("/").get_data(as_text=True)
    regions = html.split('id="chart-regions"', 1)[1].split("</svg>", 1)[0]
    assert "<svg" in regions and "Карагандинская область" in regions
    exposure = html.split('id="chart-exposure"', 1)[1].split("</svg>", 1)[0]
    assert 'class="line-past"' in exposure and 'class="today"' in exposure
    # The point of today carries the penalty of today in its tooltip.
    assert f"12.06.2014: 3{NBSP}003{NBSP}000,00{NBSP}₸" in exposure


def test_penalty_exposure_follows_the_calculator_month_by_month(app, make_user, karaganda_case):
    manager = make_user("manager", None)
    board = dashboard.build(manager, date(2014, 6, 12))
    by_day = {p.on: p for p in board.exposure}
    # 31.05.2014: 27 days late (from the effective due date 04.05.2014).
    assert by_day[date(2014, 5, 31)].total == Decimal("2079000.00")
    assert by_day[date(2014, 4, 30)].total == Decimal("0.00")
    # 30.06.2014, not yet reached, is projected as if nothing were performed: the TEO 57 days
    # late (05.05–30.06), the expertise (due Monday 16.06.2014) 14 days late — but those 14 days
    # are days of the TEO's delay too, and a day of the contract's delay counts once (DESIGN §4):
    # 57 × 77,000.00, not (57 + 14) × 77,000.00.
    assert by_day[date(2014, 6, 30)].projected
    assert by_day[date(2014, 6, 30)].total == Decimal("77000.00") * 57 == Decimal("4389000.00")


def test_another_feature_adds_a_card_through_the_widget_extension_point(
    client, make_user, karaganda_case
):
    saved = dict(DASHBOARD_WIDGETS)
    DASHBOARD_WIDGETS.clear()
    DASHBOARD_WIDGETS["test_card"] = lambda user: Widget("Претензии на проверке", 4)
    DASHBOARD_WIDGETS["hidden"] = lambda user: None
    try:
        login(client, make_user("manager", None))
        html = client.get("/").get_data(as_text=True)
    finally:
        DASHBOARD_WIDGETS.clear()
        DASHBOARD_WIDGETS.update(saved)
    assert "Претензии на проверке" in html
    assert html.count('data-kpi="widget"') == 1


def _statements_of(app, fn) -> list[str]:
    statements: list[str] = []

    def before(conn, cursor, statement, *args, **kwargs):
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    return statements


def test_the_dashboard_needs_the_same_number_of_queries_for_more_contracts(
    app, client, make_user, set_today
):
    """Computing the figures takes a fixed number of queries, and the page showing stored
    figures reads no milestone at all (one row of the snapshot instead)."""
    set_today("2014-06-12")
    manager = make_user("manager", None)
    login(client, manager)

    def add_contracts(n: int) -> None:
        for i in range(n):
            contract = factories.contract("KZ-35" if i % 2 else "KZ-63")
            factories.milestone(contract, due_on=date(2014, 5, 1), value=Decimal("1000.00"))
            factories.milestone(contract, due_on=date(2014, 6, 20))
            factories.site("KZ-35", employed=3)

    def build():
        db.session.expire_all()
        forget_calendar()  # each request loads the calendar once; count that too
        dashboard.build(manager, date(2014, 6, 12))

    def page():
        assert client.get("/").status_code == 200

    def stored_page():
        snapshots.refresh(date(2014, 6, 12))
        db.session.commit()
        return _statements_of(app, page)

    add_contracts(2)
    few, few_page = len(_statements_of(app, build)), stored_page()
    add_contracts(8)
    many, many_page = len(_statements_of(app, build)), stored_page()
    print(
        f"dashboard queries: build {few} / page {len(few_page)} with 2 contracts, "
        f"build {many} / page {len(many_page)} with 10"
    )
    assert many == few, (few, many)
    assert len(many_page) == len(few_page), (few_page, many_page)
    assert not [s for s in many_page if "milestones" in s], many_page
    # The first visit after a refresh reads the user (with the data version), the snapshot's row
    # (figures and charts) and the cards' counts to render the body; later visits reuse the body
    # while the data version stays: the user's own statement is all they read.
    assert len([s for s in many_page if "dashboard_snapshots.data" in s]) == 1
    again = _statements_of(app, page)
    assert len(again) == 1 and "data_versions" in again[0] and "FROM users" in again[0], again


def test_the_timeline_shows_stages_milestones_and_todays_line(client, make_user, set_today):
    set_today("2014-06-12")
    project = factories.project(
        "KZ-35",
        title="ИУ на 1500 мест",
        stages=[
            {"kind": "economic_conclusion", "planned_on": None, "actual_on": date(2013, 1, 15)},
            {"kind": "state_expertise", "planned_on": date(2014, 7, 1), "actual_on": None},
        ],
    )
    contract = factories.contract("KZ-35", number="241", project_id=project.id)
    factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    login(client, make_user("viewer", "KZ-35"))
    html = client.get("/timeline").get_data(as_text=True)
    chart = html.split(f'id="project-{project.id}"', 1)[1].split("</svg>", 1)[0]
    assert "Экономическое заключение" in chart and "Государственная экспертиза" in chart
    assert "№ 241: Представление ТЭО" in chart
    assert 'class="stage-done"' in chart and 'class="stage-planned"' in chart
    assert 'class="ms-overdue"' in chart and 'class="delay"' in chart
    assert 'data-today="2014-06-12"' in chart


def test_the_timeline_of_another_region_is_not_shown(client, make_user, set_today):
    set_today("2014-06-12")
    save_project(
        SYSTEM_USER, {"title": "Проект в Усть-Каменогорске", "kind": "ppp", "region": "KZ-63"}
    )
    db.session.commit()
    login(client, make_user("officer", "KZ-35"))
    assert "Усть-Каменогорске" not in client.get("/timeline").get_data(as_text=True)


def _body(html: str) -> str:
    """The dashboard's body (what is cached) out of the page: from its heading to the end."""
    return html[html.index('<h1 class="h3 mb-0">') :]


def test_the_cached_body_follows_a_new_snapshot_and_any_data_change_at_once(
    app, client, make_user, karaganda_case
):
    """The body is rendered once per data version and shown again from the cache; a new
    snapshot (a new overdue obligation) and a change of the data a card counts show on the very
    next request; it carries neither the user's name nor their CSRF token."""
    from ppp_tracker.registry.models import Party

    contract = karaganda_case[0]
    saved = dict(DASHBOARD_WIDGETS)
    # A card counting audited records, as the claims feature's cards do.
    DASHBOARD_WIDGETS["test_parties"] = lambda user: Widget(
        "Parties card", db.session.scalar(sa.select(sa.func.count(Party.id)))
    )
    forget_bodies(app)  # the app serves other tests too
    try:
        snapshots.refresh(date(2014, 6, 12))
        db.session.commit()
        manager = make_user("manager", None)
        login(client, manager)
        first = client.get("/").get_data(as_text=True)
        assert len(kept_bodies(app)) == 1
        second = client.get("/").get_data(as_text=True)
        assert len(kept_bodies(app)) == 1 and _body(second) == _body(first)
        assert _kpi(first, "overdue") == "1"
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', first).group(1)
        for body in kept_bodies(app):
            assert token not in body and "csrf_token" not in body
            assert manager.email not in body
        # A new snapshot: another overdue obligation, at once.
        factories.milestone(contract, title="Второй срок", due_on=date(2014, 5, 20))
        snapshots.refresh(date(2014, 6, 12))
        db.session.commit()
        assert _kpi(client.get("/").get_data(as_text=True), "overdue") == "2"
        # A card's count moves with any audited change (no new snapshot), at once.
        parties = db.session.scalar(sa.select(sa.func.count(Party.id)))
        assert f'>{parties}</div><div class="text-muted small">Parties card' in client.get(
            "/"
        ).get_data(as_text=True)
        factories.party(name="ТОО «Новый подрядчик»")
        html = client.get("/").get_data(as_text=True)
        assert f'>{parties + 1}</div><div class="text-muted small">Parties card' in html
    finally:
        DASHBOARD_WIDGETS.clear()
        DASHBOARD_WIDGETS.update(saved)


def test_a_cached_body_is_not_shown_once_its_snapshot_is_too_old(
    app, client, make_user, karaganda_case, monkeypatch
):
    """With no data change, a body is still dropped when its snapshot gets older than two scan
    intervals (the workers missed a scan): the page then computes the figures itself."""
    from datetime import timedelta

    from ppp_tracker import clock

    forget_bodies(app)
    snapshots.refresh(date(2014, 6, 12))
    db.session.commit()
    login(client, make_user("manager", None))
    first = client.get("/").get_data(as_text=True)
    # From the cache: the kept body (the page around it carries a token of this second).
    assert len(kept_bodies(app)) == 1
    assert _body(client.get("/").get_data(as_text=True)) == _body(first)
    stored_at = re.search(r'id="computed-at"[^>]*>([^<]+)<', first).group(1)
    later = clock.now() + timedelta(minutes=2 * app.config["SCAN_INTERVAL_MINUTES"] + 7)
    monkeypatch.setattr(clock, "now", lambda: later)
    recomputed = client.get("/").get_data(as_text=True)
    assert re.search(r'id="computed-at"[^>]*>([^<]+)<', recomputed).group(1) != stored_at
    assert later.astimezone(clock.local_zone()).strftime("%H:%M") in recomputed


def test_a_cached_body_never_goes_to_another_scope_or_language(
    app, client, make_user, karaganda_case
):
    """Bodies cached for all regions, for KZ-35 and in Russian are never shown to an officer
    of KZ-63 or in Kazakh: each gets their own scope's figures in their own language."""
    forget_bodies(app)  # the app serves other tests too
    snapshots.refresh(date(2014, 6, 12))
    db.session.commit()
    views = {}
    for name, user in [
        ("manager", make_user("manager", None)),
        ("kz35", make_user("officer", "KZ-35")),
        ("kz63", make_user("officer", "KZ-63")),
    ]:
        client = app.test_client()  # a browser of their own
        login(client, user)
        views[name] = client.get("/").get_data(as_text=True)
        again = client.get("/").get_data(as_text=True)  # served from the cache
        assert _body(again) == _body(views[name])
    assert _kpi(views["manager"], "overdue") == "1" and _kpi(views["kz35"], "overdue") == "1"
    assert _kpi(views["kz63"], "overdue") == "0"
    assert "Представление ТЭО" in views["kz35"] and "Представление ТЭО" not in views["kz63"]
    assert len({_body(v) for v in views.values()}) == 3
    assert len(kept_bodies(app)) == 3

    # All regions and no widget (their titles are translated): only the language differs.
    saved = dict(DASHBOARD_WIDGETS)
    DASHBOARD_WIDGETS.clear()
    try:
        client = app.test_client()
        login(client, make_user("manager", None))
        russian = client.get("/").get_data(as_text=True)
        post_form(client, "/locale", {"locale": "kk", "next": "/"}, form_url="/")
        kazakh = client.get("/").get_data(as_text=True)
    finally:
        DASHBOARD_WIDGETS.update(saved)
    assert 'lang="kk"' in kazakh and _body(kazakh) != _body(russian)
    with app.test_request_context(), force_locale("kk"):
        heading = gettext("Overdue obligations")
    assert heading != "Overdue obligations" and heading in kazakh and heading not in russian
    # The new manager moved the data version: the all-regions Russian body of the new version
    # took the place of the first one (a key holds one version), the Kazakh one is new.
    assert len(kept_bodies(app)) == 4
