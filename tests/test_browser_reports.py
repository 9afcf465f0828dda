"""In a real browser: the dashboard with its charts, the timeline, and switching the language."""

from __future__ import annotations

from datetime import date

import pytest

from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_manager_opens_the_dashboard_and_the_timeline_and_switches_language(
    app, live_server, page, make_user, set_today
):
    set_today("2014-06-12")
    manager = make_user("manager", None)
    project = factories.project(
        "KZ-35",
        title="ИУ на 1500 мест в г. Караганде",
        stages=[{"kind": "economic_conclusion", "actual_on": date(2013, 1, 15)}],
    )
    contract = factories.contract("KZ-35", number="241", project_id=project.id)
    factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 1))
    errors, missing = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    assert page.locator("h1").inner_text() == "Сводка"
    assert page.locator('[data-kpi="overdue"] .display-6').inner_text() == "1"
    assert page.locator("#chart-regions svg").is_visible()
    assert page.locator("#chart-exposure svg path.line-past").count() == 1
    bar = page.locator("#chart-regions svg rect.bar")
    assert bar.count() == 1 and bar.bounding_box()["width"] > 50

    page.click("text=Подробный график")
    page.wait_for_url("**/timeline")
    chart = page.locator(f"#project-{project.id} svg")
    assert chart.is_visible()
    assert "№ 241: Представление ТЭО" in chart.text_content()
    today = chart.locator("line.today")
    assert today.count() == 1 and today.bounding_box()["height"] > 20
    assert "сегодня 12.06.2014" in chart.locator("text.today-label").text_content()

    page.click("button[name=locale][value=kk]")
    page.wait_for_url("**/timeline")
    assert page.locator("h1").inner_text() == "Жобалар кестесі"
    page.click("button[name=locale][value=en]")
    page.wait_for_url("**/timeline")
    assert page.locator("h1").inner_text() == "Timeline of projects"
    page.goto(f"{live_server}/")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("html").get_attribute("lang") == "en"
    # No CSP violation, no missing script, style or font (browsers also ask for a favicon).
    missing = [url for url in missing if not url.endswith("/favicon.ico")]
    assert missing == []
    assert [e for e in errors if "404" not in e or missing] == []
