"""In a real browser on the embedded SQLite default: every main page fits a phone (390 px) and a
laptop (1366 px) in Kazakh — the longest labels — without sideways page scroll, and the user
menu's logout can be reached and clicked on each; the skip link, keyboard focus and the icon."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.services import create_user
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db
from tests.browser import REDUCED_MOTION, serve
from tests.conftest import PASSWORD, _fresh

pytestmark = pytest.mark.browser

WIDTHS = ((390, 844), (1366, 768))


@pytest.fixture
def lite_app(sqlite_app):
    yield from _fresh(sqlite_app)


@pytest.fixture
def lite_server(lite_app):
    yield from serve(lite_app)


def _load_demo() -> None:
    from ppp_tracker.registry import demo
    from ppp_tracker.registry.cli import DEMO_EXTENSIONS

    with acting_as(Actor("cli:demo load")):
        demo.load()
        for extend in DEMO_EXTENSIONS.values():
            extend()
        db.session.commit()


def _first(table: str) -> int:
    return db.session.execute(sa.text(f"SELECT min(id) FROM {table}")).scalar_one()


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _open_user_menu(page) -> None:
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#mainnav.show").wait_for()
    page.locator("#mainnav .dropdown-toggle").click()


def _close_menus(page) -> None:
    """Close what `_open_user_menu` opened (Escape closes the dropdown, the toggler the
    collapsed menu), so that the next width starts from a page as loaded."""
    page.keyboard.press("Escape")
    page.locator("#mainnav .dropdown-menu.show").wait_for(state="detached")
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible() and page.locator("#mainnav.show").count():
        toggler.click()
        page.locator("#mainnav.show").wait_for(state="detached")


def test_every_main_page_fits_a_phone_and_a_laptop_in_kazakh_with_logout_in_reach(
    lite_app, lite_server, browser
):
    _load_demo()
    admin, _ = create_user("admin@example.kz", role="admin", region_code=None, password=PASSWORD)
    db.session.commit()
    details = [
        f"/contracts/{_first('contracts')}",
        f"/milestones/{_first('milestones')}",
        f"/projects/{_first('projects')}",
        f"/sites/{_first('production_sites')}",
        f"/parties/{_first('parties')}",
        f"/claims/{_first('claims')}",
        f"/cases/{_first('cases')}",
        f"/contracts/{_first('contracts')}/edit",
        "/timeline?show=sites",
        "/search?q=241",
    ]
    # One page loaded once and looked at in each width in turn (the page resized, as a
    # window is: the same stylesheet rules apply as at load; app.js does nothing by width).
    width, height = WIDTHS[0]
    context = browser.new_context(
        viewport={"width": width, "height": height}, reduced_motion=REDUCED_MOTION
    )
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else 0)
    _log_in(page, lite_server, admin.email)
    with page.expect_navigation():
        page.locator("button[name=locale][value=kk]").dispatch_event("click")
    assert page.locator("html").get_attribute("lang") == "kk"

    # Every page of the menu and of the user menu, and the records they lead to.
    links = page.eval_on_selector_all(
        "#mainnav a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    pages = list(dict.fromkeys([*links, *details]))
    assert len(pages) >= 25, pages
    too_wide = []
    for path in pages:
        response = page.goto(lite_server + path)
        assert response.status == 200, path
        for width, height in WIDTHS:
            page.set_viewport_size({"width": width, "height": height})
            scroll_width, inner_width = page.evaluate(
                "[document.scrollingElement.scrollWidth, innerWidth]"
            )
            assert inner_width == width
            if scroll_width > inner_width:
                too_wide.append((width, path, scroll_width))
            _open_user_menu(page)
            logout = page.locator("#logout")
            assert logout.is_visible() and logout.is_enabled(), (width, path)
            box = logout.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= inner_width, (width, path)
            _close_menus(page)
    assert too_wide == [], too_wide

    for width, height in reversed(WIDTHS):  # ending on the phone
        page.set_viewport_size({"width": width, "height": height})
        # The first Tab reaches the skip link, which leads to the content; focus is visible.
        page.goto(lite_server + "/contracts")
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert skip.is_visible() and skip.bounding_box()["y"] >= 0
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", "")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "content"

    # No 404 on the way (the icon included), and logout works from the menu (on the phone).
    assert failed == [], failed
    assert page.request.get(f"{lite_server}/favicon.ico").status == 200
    _open_user_menu(page)
    page.locator("#logout").click()
    page.wait_for_url("**/login**")
    context.close()


def test_marking_a_milestone_met_changes_the_dashboard_on_the_next_load(
    lite_app, lite_server, browser
):
    from datetime import date

    from ppp_tracker.reports import snapshots
    from tests import factories

    lite_app.config["FAKE_TODAY"] = date(2014, 6, 12)
    contract = factories.contract("KZ-35", number="241")
    late = factories.milestone(contract, title="Представление ТЭО", due_on=date(2014, 5, 5))
    factories.milestone(contract, title="Экспертиза", due_on=date(2014, 6, 2))
    # The workers stored the figures a moment ago.
    snapshots.refresh(date(2014, 6, 12))
    db.session.commit()
    officer, _ = create_user(
        "officer@example.kz", role="officer", region_code="KZ-35", password=PASSWORD
    )
    db.session.commit()
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="ru-RU", reduced_motion=REDUCED_MOTION
    )
    page = context.new_page()
    _log_in(page, lite_server, officer.email)
    overdue = page.locator('[data-kpi="overdue"] .display-6')
    assert overdue.inner_text() == "2"

    page.goto(f"{lite_server}/milestones/{late.id}")
    page.fill("input[name=met_on]", "2014-06-11")
    page.locator("form[action$='/met'] button[type=submit]").click()
    page.wait_for_url(f"**/milestones/{late.id}")
    page.goto(f"{lite_server}/")
    assert overdue.inner_text() == "1"
    assert "Представление ТЭО" not in page.locator("#overdue-list").inner_text()
    context.close()
