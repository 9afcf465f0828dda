"""In a real browser on the embedded SQLite default (whose own lower() and LIKE fold ASCII only):
an officer types Russian and Kazakh into a list's search box and into the global search, in
another case than the records are written, and finds them."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import PASSWORD, _fresh

pytestmark = pytest.mark.browser


@pytest.fixture
def app(sqlite_app):
    """The app on SQLite (`live_server` serves this module's `app`)."""
    yield from _fresh(sqlite_app)


def _login(page, live_server, user) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def _list_search(page, live_server, path: str, typed: str) -> str:
    page.goto(f"{live_server}{path}")
    box = page.locator("main input[name=q]")  # the list's own box, not the navbar's
    box.fill(typed)
    box.press("Enter")
    page.wait_for_url(f"**{path}?*q=*")
    return page.locator("main table").first.inner_text()


def _global_search(page, typed: str) -> str:
    box = page.locator("form[role=search] input[name=q]").first  # the navbar's
    box.fill(typed)
    box.press("Enter")
    page.wait_for_url("**/search?*q=*")
    return page.locator("main").inner_text()


def test_cyrillic_and_kazakh_typed_into_the_lists_and_the_global_search(
    app, live_server, page, make_user
):
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    officer = make_user("officer", "KZ-35")
    armanken = factories.party(name="ТОО «АРМАНКЕН»")
    qyzmet = factories.party(name="ЖШС «ҚЫЗМЕТ»")
    factories.contract(number="А-2026-061", contractor_id=armanken.id, subject="РАЗРАБОТКА ТЭО")
    factories.contract(number="Қ-2026-007", contractor_id=qyzmet.id, subject="Жеткізу")
    factories.contract(number="Б-1999-999", subject="Ремонт кровли")
    institution = factories.institution(name="ҮЙ ҰСТАСЫ МЕКЕМЕСІ")
    factories.site(name="ЦЕХ «ЁЛОЧКА»", institution_obj=institution)
    _login(page, live_server, officer)

    found = _list_search(page, live_server, "/contracts", "арманкен")
    assert "А-2026-061" in found and "Б-1999-999" not in found
    found = _list_search(page, live_server, "/contracts", "қызмет")
    assert "Қ-2026-007" in found and "А-2026-061" not in found
    found = _list_search(page, live_server, "/parties", "«арманкен»")
    assert "ТОО «АРМАНКЕН»" in found and "ЖШС «ҚЫЗМЕТ»" not in found
    found = _list_search(page, live_server, "/sites", "елочка")
    assert "ЦЕХ «ЁЛОЧКА»" in found
    found = _list_search(page, live_server, "/institutions", "үй ұстасы")
    assert "ҮЙ ҰСТАСЫ МЕКЕМЕСІ" in found

    results = _global_search(page, "тэо")
    assert "А-2026-061" in results and "Б-1999-999" not in results
    results = _global_search(page, "жшс «қызмет»")
    assert "ЖШС «ҚЫЗМЕТ»" in results and "Қ-2026-007" in results
    assert "А-2026-061" not in results
