"""In a real browser: log in, create a contract with a milestone, find it in the list."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_officer_creates_a_contract_with_a_milestone_and_finds_it(
    app,
    live_server,
    page,
    make_user,
    set_today,
):
    set_today("2014-06-12")
    officer = make_user("officer", "KZ-35")
    factories.party(kind="government", bin=None, name="ДУИС по Карагандинской области")
    factories.party(name="АО «РЦГЧП Карагандинской области»")
    factories.project("KZ-35", title="ИУ на 1500 мест в г. Караганде")

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", officer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/contracts/new")
    page.fill("input[name=number]", "241")
    page.fill("input[name=signed_on]", "2013-11-21")
    page.select_option("select[name=customer_id]", label="ДУИС по Карагандинской области")
    page.select_option(
        "select[name=contractor_id]",
        label=page.locator("select[name=contractor_id] option", has_text="РЦГЧП").inner_text(),
    )
    page.select_option("select[name=project_id]", label="ИУ на 1500 мест в г. Караганде")
    page.fill("textarea[name=subject]", "Разработка ТЭО концессионного проекта")
    page.fill("input[name=total_amount]", "77 000 000,00")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_url("**/contracts/*")
    assert "241" in page.locator("h1").inner_text()

    page.click("a.btn-primary[href$='/milestones/new']")
    page.fill("input[name=title]", "Представление ТЭО на экспертизу")
    page.select_option("select[name=type]", "delivery")
    page.fill("input[name=due_on]", "2014-05-01")
    page.fill("input[name=value]", "77000000")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_url("**/contracts/*")
    row = page.locator("#milestones-table tr", has_text="Представление ТЭО на экспертизу")
    assert "04.05.2014" in row.inner_text()  # 1–3 May 2014 were days off

    page.goto(f"{live_server}/contracts")
    page.fill("main input[name=q]", "241")  # the list's own box, not the navbar's search
    page.keyboard.press("Enter")
    page.wait_for_url("**/contracts?*q=241*")
    table = page.locator("#contracts-table").inner_text()
    assert "241" in table and "РЦГЧП" in table
