"""Three languages: every page opens in Kazakh and English, shows no English left untranslated
in Kazakh, and writes numbers, money and dates the way the locale does."""

from __future__ import annotations

import html as htmllib
import re
from decimal import Decimal

import pytest

from ppp_tracker.money import format_money, format_number
from tests.conftest import login, post_form
from tests.test_access import _url, web_endpoints, world  # noqa: F401 - the fixture is used

#: English that may stand in a Kazakh page: names of programs, formats and the product.
ALLOWED_ENGLISH = {
    "ppp tracker",
    "google calendar",
    "csv utf",
    "excel",
    "xlsx csv",
    "celery worker",
}
#: The audit trail shows what was recorded — table and column names, stored values, "system" —
#: as it was recorded; it is left out of the check (a known gap, see the report of issue 5).
RAW_AUDIT = re.compile(r'<div class="card mt-3" id="history">.*?</table>', re.S)
#: Scripts, styles, text areas and code (letter templates and their variable names are code).
_TAGS = re.compile(r"<(script|style|textarea|code)\b.*?</\1>|<[^>]+>", re.S | re.I)
_ENGLISH = re.compile(r"\b[A-Za-z]{3,}(?:[ -][A-Za-z]{3,})+\b")


def visible_text(page: str) -> str:
    text = _TAGS.sub(" ", page)
    return htmllib.unescape(re.sub(r"\s+", " ", text))


def english_left(page: str) -> list[str]:
    found = []
    for phrase in _ENGLISH.findall(visible_text(RAW_AUDIT.sub(" ", page))):
        normal = phrase.lower().replace("-", " ")
        if not any(allowed in normal for allowed in ALLOWED_ENGLISH):
            found.append(phrase)
    return found


def _pages(app, user, world):  # noqa: F811 - `world` is the fixture's value
    values = {**world["own"], "party_id": world["party_id"], "user_id": user.id}
    for endpoint, rule in sorted(web_endpoints(app).items()):
        if "GET" not in rule.methods or endpoint in ("static", "core.healthz", "auth.login"):
            continue
        if rule.rule.startswith("/api/") or endpoint.startswith("feeds."):
            continue
        yield endpoint, _url(app, rule, values)


@pytest.mark.parametrize("locale", ["kk", "en"])
def test_every_page_opens_in_the_language(app, client, make_user, world, locale):  # noqa: F811
    admin = make_user("admin", None)
    login(client, admin)
    r = post_form(client, "/locale", {"locale": locale, "next": "/"}, form_url="/")
    assert r.status_code == 302
    problems = {}
    for endpoint, url in _pages(app, admin, world):
        response = client.get(url)
        assert response.status_code == 200, (endpoint, url, response.status_code)
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        assert "<html" not in page or f'lang="{locale}"' in page, endpoint
        if locale == "kk" and endpoint != "auth.audit_log":  # raw records, see RAW_AUDIT
            left = english_left(page)
            if left:
                problems[endpoint] = left
    assert problems == {}, problems


def test_the_check_for_english_notices_an_untranslated_phrase():
    assert english_left("<p>Мерзімі өткен · Penalty exposure over time</p>") == [
        "Penalty exposure over time"
    ]
    assert english_left("<p>ppp-tracker · Excel · 1 000 ₸</p>") == []


def test_money_numbers_and_dates_in_each_locale():
    amount = Decimal("23100000.00")
    assert format_money(amount, "ru") == "23\u00a0100\u00a0000,00\u00a0₸"
    assert format_money(amount, "kk") == "23\u00a0100\u00a0000,00\u00a0₸"
    assert format_money(amount, "en") == "23,100,000.00\u00a0₸"
    assert format_number(2000, "kk") == "2\u00a0000" and format_number(2000, "en") == "2,000"


def test_the_english_dashboard_shows_money_the_english_way(client, make_user, set_today):
    from datetime import date

    from tests import factories

    set_today("2014-06-12")
    contract = factories.contract("KZ-35", number="241")
    factories.milestone(contract, due_on=date(2014, 5, 1))
    login(client, make_user("manager", None))
    post_form(client, "/locale", {"locale": "en", "next": "/"}, form_url="/")
    page = client.get("/").get_data(as_text=True)
    assert "3,003,000.00\u00a0₸" in page and "Overdue obligations" in page
