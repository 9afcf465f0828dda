"""The deadline and alert pages and API as users see them: lists, the calendar, the rules,
preferences, the outbox, the alert log and the stale-scan warning."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ppp_tracker import clock
from ppp_tracker.alerts.models import AlertPlan, ContractAlertRules, ScanRun
from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import CalendarOverride
from ppp_tracker.db import db
from ppp_tracker.registry.models import Milestone
from tests import factories
from tests.alerting import karaganda, purge_alert_queue, scan, user  # noqa: F401
from tests.conftest import login, post_form

pytestmark = pytest.mark.usefixtures("purge_alert_queue")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_deadline_lists_show_what_is_overdue_and_what_is_coming(client, set_today):
    set_today("2014-05-15")
    w = karaganda()
    factories.milestone(w.contract, title="Отчёт о ходе работ", due_on=date(2014, 5, 26))
    elsewhere = factories.contract("KZ-63")
    factories.milestone(elsewhere, title="Чужой срок", due_on=date(2014, 5, 10))
    scan("2014-05-15")
    login(client, w.officer)
    html = client.get("/deadlines").get_data(as_text=True)
    overdue = text_of(html.split('id="overdue-table"')[1].split("</table>")[0])
    upcoming = text_of(html.split('id="upcoming-table"')[1].split("</table>")[0])
    assert "Представление ТЭО на государственную экспертизу" in overdue
    assert "04.05.2014" in overdue and "по договору: 01.05.2014" in overdue
    assert " 11 " in overdue  # days late
    assert "просрочка, 8-й день" in overdue  # the last reminder sent
    assert "Отчёт о ходе работ" in upcoming and "26.05.2014" in upcoming
    assert "Чужой срок" not in html  # another region is outside the officer's scope
    assert "Напоминания последний раз проверялись" in html


def test_the_deadline_lists_filter_by_officer_and_contract(client, set_today):
    set_today("2014-05-15")
    w = karaganda()
    colleague = user("colleague@karaganda.kz", "officer", "KZ-35", name="Коллега")
    other = factories.contract("KZ-35", officer=colleague.email)
    factories.milestone(other, title="Срок коллеги", due_on=date(2014, 5, 6))
    login(client, w.manager)
    both = client.get("/deadlines").get_data(as_text=True)
    assert "Срок коллеги" in both and "Представление ТЭО" in both
    mine = client.get(f"/deadlines?officer={w.officer.id}").get_data(as_text=True)
    assert "Срок коллеги" not in mine and "Представление ТЭО" in mine
    theirs = client.get(f"/deadlines?contract_id={other.id}").get_data(as_text=True)
    assert "Срок коллеги" in theirs and "Представление ТЭО" not in theirs
    by_region = client.get("/deadlines?region=KZ-63").get_data(as_text=True)
    assert "Срок коллеги" not in by_region and "Представление ТЭО" not in by_region


def test_an_admin_adds_and_removes_a_calendar_override(client, make_user, set_today):
    set_today("2026-03-01")
    w = karaganda(due_on=date(2026, 3, 20))
    admin = make_user("admin", None)
    login(client, admin)
    page = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert 'data-day="2026-03-23"' in page and "Наурыз" in page
    r = post_form(
        client,
        "/admin/calendar/overrides",
        {"day": "2026-03-20", "kind": "off", "reason": "Постановление Правительства РК № 777"},
        form_url="/admin/calendar?year=2026",
    )
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Сдвинуто сроков исполнения: 1." in page
    overrides = text_of(page.split('id="overrides-table"')[1].split("</table>")[0])
    assert "20.03.2026" in overrides and "Постановление Правительства РК № 777" in overrides
    db.session.expire_all()
    assert db.session.get(Milestone, w.milestone.id).effective_due_on == date(2026, 3, 26)
    milestone_page = client.get(f"/milestones/{w.milestone.id}").get_data(as_text=True)
    assert "Постановление Правительства РК № 777" in milestone_page  # the why of the date
    r = post_form(
        client,
        "/admin/calendar/overrides/remove",
        {"day": "2026-03-20"},
        form_url="/admin/calendar?year=2026",
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(CalendarOverride, date(2026, 3, 20)) is None
    assert db.session.get(Milestone, w.milestone.id).effective_due_on == date(2026, 3, 20)


def test_an_override_without_a_reason_is_refused_next_to_the_field(client, make_user):
    login(client, make_user("admin", None))
    r = post_form(
        client,
        "/admin/calendar/overrides",
        {"day": "2026-03-20", "kind": "off", "reason": ""},
        form_url="/admin/calendar",
    )
    assert r.status_code == 422
    assert 'data-field-error="reason"' in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0


def test_the_contract_rules_form_explains_bad_input_and_saves_good_input(client, set_today):
    set_today("2014-04-01")
    w = karaganda()
    login(client, w.officer)
    url = f"/contracts/{w.contract.id}/alert-rules"
    form = client.get(url).get_data(as_text=True)
    assert 'value="30, 14, 7, 3, 1"' in form
    r = post_form(client, url, {"days_before": "7, 7", "overdue_every_days": "7", "overdue": "y"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field-error="days_before"' in html and "указано дважды" in html
    assert db.session.get(ContractAlertRules, w.contract.id) is None
    r = post_form(
        client, url, {"days_before": "10, 2", "on_due_day": "y", "overdue_every_days": "0"}
    )
    assert r.status_code == 302
    page = client.get(f"/contracts/{w.contract.id}").get_data(as_text=True)
    rules = text_of(page.split('id="alert-rules-text"')[1].split("</div>")[0])
    assert "за 10, 2 дн. до срока; в день срока" in rules
    assert "просрочке" not in rules
    db.session.expire_all()
    assert db.session.get(AlertPlan, w.milestone.id).next_alert_on == date(2014, 4, 24)


def test_a_user_chooses_the_digest_and_kazakh(client, make_user):
    officer = make_user("officer", "KZ-35")
    login(client, officer)
    profile = client.get("/profile").get_data(as_text=True)
    assert 'id="notifications"' in profile
    r = post_form(
        client,
        "/alerts/preferences",
        {"alert_mode": "digest", "locale": "kk"},
        form_url="/profile",
    )
    assert r.status_code == 302
    db.session.expire_all()
    saved = db.session.get(User, officer.id)
    assert (saved.alert_mode, saved.locale) == ("digest", "kk")
    assert "Хабарландырулар" in client.get("/profile").get_data(as_text=True)
    r = post_form(
        client, "/alerts/preferences", {"alert_mode": "weekly", "locale": "de"}, form_url="/profile"
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, officer.id).alert_mode == "digest"


def test_the_outbox_shows_admins_everything_and_users_their_own(client, make_user, set_today):
    set_today("2014-05-05")
    w = karaganda()
    scan("2014-05-05", send_now=True)
    login(client, w.officer)
    own = client.get("/outbox").get_data(as_text=True)
    assert "officer@karaganda.kz" in own and "manager@kuis.kz" not in own
    assert "Просрочено на 1 день" in own
    admin = make_user("admin", None)
    client2 = client.application.test_client()
    login(client2, admin)
    everything = client2.get("/outbox").get_data(as_text=True)
    assert "officer@karaganda.kz" in everything and "manager@kuis.kz" in everything


def test_the_milestone_page_and_the_api_show_the_alert_log(client, api_token, set_today):
    set_today("2014-05-05")
    w = karaganda()
    scan("2014-05-05", send_now=True)
    login(client, w.officer)
    page = client.get(f"/milestones/{w.milestone.id}").get_data(as_text=True)
    log = text_of(page.split('id="alert-log-table"')[1].split("</table>")[0])
    assert "просрочка, 1-й день" in log and "отправлено" in log
    assert "Исполнитель Карагандинского ДУИС" in log and "Руководитель Комитета" in log
    assert "Следующее напоминание: 12.05.2014" in page
    body = client.get(
        f"/api/v1/milestones/{w.milestone.id}/alerts", headers=api_token(w.officer)
    ).get_json()
    [alert] = body
    assert (alert["rule"], alert["effective_due_on"], alert["days_late"]) == (
        "overdue_1",
        "2014-05-04",
        1,
    )
    assert sorted((d["recipient"], d["status"]) for d in alert["deliveries"]) == [
        ("manager@kuis.kz", "sent"),
        ("officer@karaganda.kz", "sent"),
    ]


def test_the_api_changes_a_contracts_rules_and_refuses_bad_ones(client, api_token, set_today):
    set_today("2014-04-01")
    w = karaganda()
    headers = api_token(w.officer)
    url = f"/api/v1/contracts/{w.contract.id}/alert-rules"
    assert client.get(url, headers=headers).get_json() == {
        "days_before": [30, 14, 7, 3, 1],
        "on_due_day": True,
        "overdue": True,
        "overdue_every_days": 7,
    }
    r = client.patch(url, json={"days_before": [7, 7], "overdue_every_days": -1}, headers=headers)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert "overdue_every_days" in errors
    r = client.patch(url, json={"days_before": [7, 7]}, headers=headers)
    assert r.status_code == 422 and "days_before" in r.get_json()["errors"]
    r = client.patch(url, json={"days_before": [10], "overdue": False}, headers=headers)
    assert r.status_code == 200
    assert r.get_json()["days_before"] == [10] and r.get_json()["overdue"] is False
    viewer = user("viewer@kuis.kz", "viewer", None)
    assert client.patch(url, json={"overdue": True}, headers=api_token(viewer)).status_code == 403


def test_a_dead_beat_shows_as_a_stale_scan_warning(client, make_user, app):
    login(client, make_user("viewer", None))
    html = client.get("/deadlines").get_data(as_text=True)
    assert "Проверка сроков ещё ни разу не завершилась" in html
    scan(clock.today())
    html = client.get("/deadlines").get_data(as_text=True)
    assert "Проверка сроков" not in html
    db.session.execute(sa.update(ScanRun).values(finished_at=clock.now() - timedelta(minutes=46)))
    db.session.commit()
    html = client.get("/deadlines").get_data(as_text=True)
    assert "более 45 минут назад" in html and "Celery worker и beat" in html


def test_the_outbox_matches_addresses_literally(client, set_today):
    """An address with "_" (a LIKE wildcard) sees only its own messages."""
    from ppp_tracker.core.mail import Email, send_email

    for address in ("a_b@example.kz", "axb@example.kz"):
        send_email(Email(to=(address,), subject=f"Письмо для {address}", text="x"))
    db.session.commit()
    login(client, user("a_b@example.kz", "viewer", None))
    html = client.get("/outbox").get_data(as_text=True)
    assert "Письмо для a_b@example.kz" in html and "Письмо для axb@example.kz" not in html


def _table_rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]]


def test_the_deadline_lists_come_a_page_at_a_time_with_the_counts_on_top(client, set_today):
    """Thousands of deadlines for all regions: each list shows 25 rows and its full count;
    its pages keep the other list's, and the exports still have every row."""
    set_today("2014-06-12")
    w = karaganda()
    days = [date(2014, 1, 1) + timedelta(days=3 * n) for n in range(29)]  # up to 24.04.2014
    for n, day in enumerate(days):
        factories.milestone(w.contract, title=f"Просрочка {n:02d}", due_on=day)
    factories.milestone(w.contract, title="Скоро", due_on=date(2014, 6, 20))
    login(client, w.manager)
    html = client.get("/deadlines").get_data(as_text=True)
    overdue = _table_rows(html, "overdue-table")
    assert len(overdue) == 25
    badge = re.search(r'id="overdue".*?badge[^>]*>([^<]+)<', html, re.S).group(1)
    assert badge == "30"  # 29 + the world's own
    # The most overdue first, as before: the first 25 of the 30 in due-date order.
    assert "Просрочка 00" in overdue[0] and "Просрочка 24" in overdue[24]
    assert "Скоро" in text_of(html.split('id="upcoming-table"', 1)[1].split("</table>", 1)[0])
    assert re.search(r"1–25\D+30", text_of(html.split('id="overdue"', 1)[1]))
    assert "overdue_page=2#overdue" in html

    second = client.get("/deadlines?overdue_page=2").get_data(as_text=True)
    rest = _table_rows(second, "overdue-table")
    assert [r for r in rest if "Просрочка" in r or "ТЭО" in r] == rest and len(rest) == 5
    assert "Просрочка 25" in rest[0] and any("Представление ТЭО" in r for r in rest)
    assert "Скоро" in second  # the other list keeps its own (first) page
    # A page past the end shows the last one; a bad number the first.
    assert (
        _table_rows(
            client.get("/deadlines?overdue_page=99").get_data(as_text=True), "overdue-table"
        )
        == rest
    )
    assert (
        len(
            _table_rows(
                client.get("/deadlines?overdue_page=x").get_data(as_text=True), "overdue-table"
            )
        )
        == 25
    )

    exported = client.get("/export/deadlines.csv?state=overdue").get_data(as_text=True)
    assert len([line for line in exported.splitlines() if "Просрочка" in line]) == 29


def test_the_deadline_filters_list_no_contracts_and_search_by_number_or_title(client, set_today):
    set_today("2014-05-15")
    w = karaganda()
    other = factories.contract("KZ-35", number="777-А")
    factories.milestone(other, title="Отчёт подрядчика", due_on=date(2014, 5, 6))
    outside = factories.contract("KZ-63", number="999")
    login(client, w.officer)
    html = client.get("/deadlines").get_data(as_text=True)
    assert 'name="contract_id"' not in html and "777-А" in html  # no menu of every contract
    by_number = client.get("/deadlines?q=777").get_data(as_text=True)
    rows = " ".join(_table_rows(by_number, "overdue-table"))
    assert "Отчёт подрядчика" in rows and "Представление ТЭО" not in rows
    assert "/export/deadlines.csv?state=overdue&amp;q=777" in by_number
    by_title = " ".join(
        _table_rows(client.get("/deadlines?q=тэо").get_data(as_text=True), "overdue-table")
    )
    assert "Представление ТЭО" in by_title and "Отчёт подрядчика" not in by_title
    exported = client.get("/export/deadlines.csv?state=overdue&q=777").get_data(as_text=True)
    assert "Отчёт подрядчика" in exported and "Представление ТЭО" not in exported
    # A contract chosen on its own page is named, with the way back to all contracts.
    chosen = client.get(f"/deadlines?contract_id={w.contract.id}").get_data(as_text=True)
    chip = text_of(chosen.split('id="chosen-contract"', 1)[1].split("</div>", 1)[0])
    assert "№ 241 · АО «РЦГЧП Карагандинской области»" in chip
    assert f'name="contract_id" value="{w.contract.id}"' in chosen
    # Another region's contract is not named, and lists nothing.
    foreign = client.get(f"/deadlines?contract_id={outside.id}").get_data(as_text=True)
    assert "999" not in text_of(foreign.split('id="chosen-contract"', 1)[1].split("</div>")[0])
    assert not [r for r in _table_rows(foreign, "overdue-table") if "Отчёт" in r]
