"""Every form of the web interface, every field filled with the same odd value (markup, numbers
too large for a float or a BIGINT, impossible dates, full-width digits, 30,000 characters): the
answer is a page with the errors or a redirect, never a 500."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from tests import factories
from tests.claims_world import claims_world
from tests.conftest import csrf_token, login

pytestmark = pytest.mark.usefixtures("app")

VALUES = [
    "<script>alert(1)</script>",
    "9" * 400,  # was a 500: WTForms' NumberRange calls math.isnan on it (OverflowError)
    "99999999999999999999",
    "-1",
    "1e999",
    "NaN",
    "2014-02-30",
    "０１",
    "²",
    "x" * 30_000,
    " ",
    "1,5",
]
_FORM = re.compile(r"<form([^>]*)>(.*?)</form>", re.S | re.I)


def post_forms(html: str, page: str) -> list[tuple[str, list[str]]]:
    """(action, field names) of the page's POST forms; no action means the page itself."""
    out = []
    for attrs, body in _FORM.findall(html):
        if 'method="post"' not in attrs.lower():
            continue
        action = re.search(r'action="([^"]*)"', attrs)
        target = (action.group(1) if action else "") or page
        if "logout" in target or "locale" in target:
            continue
        out.append((target, sorted(set(re.findall(r'name="([^"]+)"', body)) - {"csrf_token"})))
    return out


@pytest.mark.slow
def test_no_form_answers_odd_values_with_a_500(client, make_user, set_today):
    set_today("2014-08-01")
    contract = factories.contract("KZ-35")
    milestone = factories.milestone(contract, due_on=date(2014, 5, 1))
    world = claims_world(contract)
    claim, case = world["claim_id"], world["case_id"]
    login(client, make_user("admin", None))
    pages = [
        "/parties/new", "/institutions/new", "/projects/new", "/sites/new", "/contracts/new",
        f"/contracts/{contract.id}/milestones/new", f"/milestones/{milestone.id}/edit",
        f"/contracts/{contract.id}/edit", f"/contracts/{contract.id}/installments/new",
        f"/contracts/{contract.id}/cases/new", f"/contracts/{contract.id}/claims/new",
        f"/claims/{claim}/edit", f"/claims/{claim}", f"/cases/{case}", f"/cases/{case}/edit",
        "/admin/calendar", "/admin/users/new", "/profile", "/imports",
        f"/contracts/{contract.id}/alert-rules", "/numbering", "/letter-templates/ru",
        f"/contracts/{contract.id}", f"/milestones/{milestone.id}",
        f"/projects/{contract.project_id}",
    ]  # fmt: skip
    answers: Counter = Counter()
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        for action, names in post_forms(response.get_data(as_text=True), page):
            for value in VALUES:
                data = {name: value for name in names}
                data["csrf_token"] = csrf_token(client, page)
                answer = client.post(action, data=data)
                answers[(action, answer.status_code)] += 1
    broken = sorted(key for key in answers if key[1] >= 500)
    assert broken == [], broken
    # The forms were really reached: refused with their errors (422) or done (302).
    actions = {action for action, _status in answers}
    assert len(actions) >= 30, sorted(actions)
    assert sum(n for (_action, status), n in answers.items() if status == 422) > 200
