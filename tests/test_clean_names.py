"""Names are clean (issue 15, item 7): text that holds invisible direction controls or
zero-width characters is refused with a field message naming them — one rule
(core.validation.invisible_problem) for services, so for pages, the API and imports alike, and
for the user's own name on the profile and user pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.services import create_user
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.models import Party
from ppp_tracker.reports import imports, tasks
from tests import factories
from tests.conftest import login, post_form
from tests.reports_support import xlsx_bytes

#: Each one, and what it does to «Арман»: reversed, isolated, marked, split invisibly.
HIDDEN = {
    "\u202e": "U+202E",  # right-to-left override
    "\u202a": "U+202A",  # left-to-right embedding
    "\u2066": "U+2066",  # left-to-right isolate
    "\u2069": "U+2069",  # pop directional isolate
    "\u200e": "U+200E",  # left-to-right mark
    "\u200f": "U+200F",  # right-to-left mark
    "\u200b": "U+200B",  # zero-width space
    "\u200c": "U+200C",  # zero-width non-joiner
    "\u200d": "U+200D",  # zero-width joiner
    "\u2060": "U+2060",  # word joiner
    "\ufeff": "U+FEFF",  # zero-width no-break space (byte order mark)
}


def named(char: str) -> str:
    return f"ТОО «Ар{char}ман»"


def refused(make, field: str, code: str) -> None:
    with pytest.raises(Invalid) as exc:
        make()
    db.session.rollback()
    assert field in exc.value.errors, exc.value.errors
    assert code in " ".join(exc.value.errors[field])


@pytest.mark.parametrize("char", list(HIDDEN))
def test_every_name_and_title_refuses_invisible_characters(any_app, char):
    code, bad = HIDDEN[char], named(char)
    refused(lambda: factories.party(name=bad), "name", code)
    refused(lambda: factories.party(head_name=bad), "head_name", code)
    refused(lambda: factories.institution(name=bad), "name", code)
    refused(lambda: factories.project(title=bad), "title", code)
    refused(lambda: factories.site(name=bad), "name", code)
    refused(lambda: factories.contract(subject=bad), "subject", code)
    refused(lambda: factories.contract(number=f"24{char}1"), "number", code)
    contract = factories.contract()
    refused(lambda: factories.milestone(contract, title=bad), "title", code)
    refused(
        lambda: create_user("a@example.kz", role="officer", name=bad, password="x" * 12),
        "name",
        code,
    )


def test_plain_russian_and_kazakh_names_pass(any_app):
    party = factories.party(name="ТОО «Қазақ Әә Ғғ Ңң Өө Ұұ Үү Һһ Іі» «ёж»")
    assert party.name == "ТОО «Қазақ Әә Ғғ Ңң Өө Ұұ Үү Һһ Іі» «ёж»"


def test_the_api_refuses_them_with_the_field_named(client, make_user, api_token):
    headers = api_token(make_user("officer", "KZ-35"))
    response = client.post(
        "/api/v1/parties", json={"name": named("\u202e"), "kind": "contractor"}, headers=headers
    )
    assert response.status_code == 422
    assert "U+202E" in " ".join(response.get_json()["errors"]["name"])
    assert db.session.scalar(sa.select(sa.func.count(Party.id))) == 0


def test_the_page_shows_the_message_next_to_the_field(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    response = post_form(
        client, "/parties/new", {"name": named("\u200b"), "kind": "contractor", "region": ""}
    )
    assert response.status_code == 422
    assert "U+200B" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Party.id))) == 0


def test_an_import_names_the_row_and_column(make_user):
    officer = make_user("officer", "KZ-35")
    rows = [["name", "kind"], ["ТОО «Альфа»", "tenant"], [named("\u2066"), "tenant"]]
    batch = imports.create_batch(officer, "parties", "parties.xlsx", xlsx_bytes(rows))
    db.session.commit()
    assert tasks.check_import.run(batch.id) == "checked"
    db.session.expire_all()
    errors = db.session.get(type(batch), batch.id).errors
    assert [(e["row"], e["column"]) for e in errors] == [(3, "name")]
    assert "U+2066" in errors[0]["message"]


def test_ones_own_name_on_the_profile_refuses_them(client, make_user):
    user = make_user("officer", "KZ-35")
    login(client, user)
    response = post_form(client, "/profile", {"name": named("\u202e")})
    assert response.status_code == 422
    assert "U+202E" in response.get_data(as_text=True)
    db.session.expire_all()
    assert "\u202e" not in db.session.get(type(user), user.id).name
