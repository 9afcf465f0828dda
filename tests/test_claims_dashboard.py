"""The dashboard shows legal staff's work: letters waiting and lawsuits open, in scope."""

from __future__ import annotations

import re
from datetime import date

from tests import factories
from tests.claims_world import claims_world
from tests.conftest import login


def _card(html: str, title: str) -> str:
    match = re.search(re.escape(title) + r".{0,600}", html, re.S)
    assert match, title
    return match.group(0)


def test_claims_waiting_and_lawsuits_open_on_the_dashboard(client, make_user, set_today):
    set_today(date(2014, 7, 10))
    login(client, make_user("legal", "KZ-35"))
    ours = factories.contract("KZ-35")
    claims_world(ours)  # one draft claim and one lawsuit in Karaganda
    theirs = factories.contract("KZ-63")
    claims_world(theirs)  # the same in East Kazakhstan: not in this user's scope
    html = client.get("/").get_data(as_text=True)
    waiting = _card(html, "Претензии, ожидающие юристов")
    assert re.search(r">\s*1\s*<", waiting), waiting
    lawsuits = _card(html, "Открытые иски")
    assert re.search(r">\s*1\s*<", lawsuits), lawsuits
