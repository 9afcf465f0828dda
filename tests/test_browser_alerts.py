"""In a real browser: an officer finds an overdue deadline, its reminders and chooses the
digest; an administrator adds a day off by decree to the calendar."""

from __future__ import annotations

from datetime import date

import pytest

from tests.alerting import karaganda, purge_alert_queue, scan  # noqa: F401
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("purge_alert_queue")]


def _login(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_an_officer_follows_an_overdue_deadline_to_its_reminders(app, live_server, page, set_today):
    set_today("2014-05-15")
    w = karaganda()
    scan("2014-05-15", send_now=True)
    _login(page, live_server, w.officer.email)

    page.click("nav >> text=Сроки")
    page.wait_for_url("**/deadlines")
    overdue = page.locator("#overdue-table")
    assert "Представление ТЭО на государственную экспертизу" in overdue.inner_text()
    # Thousands of contracts make no menu: the contract is found by its number.
    page.fill("#deadline-filters input[name=q]", "241")
    page.press("#deadline-filters input[name=q]", "Enter")
    page.wait_for_url("**/deadlines?*q=241*")
    assert page.locator("#overdue .badge").inner_text() == "1"
    page.click("#overdue-table >> text=Представление ТЭО на государственную экспертизу")
    page.wait_for_url(f"**/milestones/{w.milestone.id}")
    log = page.locator("#alert-log-table").inner_text()
    assert "просрочка, 8-й день" in log and "отправлено" in log
    assert "Следующее напоминание: 19.05.2014" in page.locator("#next-reminder").inner_text()

    page.goto(f"{live_server}/profile")
    page.select_option("#notifications select[name=alert_mode]", "digest")
    page.click("#notifications button[type=submit]")
    page.wait_for_url("**/profile*")
    assert "Настройки уведомлений сохранены." in page.locator("main").inner_text()
    assert page.locator("#notifications select[name=alert_mode]").input_value() == "digest"


def test_an_administrator_adds_a_day_off_by_decree(app, live_server, page, make_user, set_today):
    set_today("2026-03-01")
    w = karaganda(due_on=date(2026, 3, 20))
    admin = make_user("admin", None)
    _login(page, live_server, admin.email)
    page.click("button.dropdown-toggle")
    page.click("text=Производственный календарь")
    page.wait_for_url("**/admin/calendar")
    page.goto(f"{live_server}/admin/calendar?year=2026")
    assert page.locator("td[data-day='2026-03-23']").get_attribute("class").count("cal-off") == 1
    page.fill("#override-form input[name=day]", "2026-03-20")
    page.select_option("#override-form select[name=kind]", "off")
    page.fill("#override-form input[name=reason]", "Постановление Правительства РК № 777")
    page.click("#override-form button[type=submit]")
    page.wait_for_url("**/admin/calendar?year=2026")
    assert "Сдвинуто сроков исполнения: 1." in page.locator("main").inner_text()
    assert "Постановление Правительства РК № 777" in page.locator("#overrides-table").inner_text()
    assert "cal-override" in page.locator("td[data-day='2026-03-20']").get_attribute("class")
    page.goto(f"{live_server}/milestones/{w.milestone.id}")
    assert "26.03.2026" in page.locator("main").inner_text()
