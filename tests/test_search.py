"""Search in Russian and Kazakh finds records whatever their case, ё/е and quotes, on PostgreSQL
and on the embedded SQLite default: in every list, the global search, the deadlines and the API."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import cases, drafting
from ppp_tracker.core.folding import fold
from ppp_tracker.core.mail import Email, send_email
from ppp_tracker.db import db
from tests import factories
from tests.conftest import PASSWORD, login

TODAY = date(2026, 6, 1)


def test_folding_reads_case_yo_quotes_and_dashes_alike():
    assert fold("АРМАНКЕН") == fold("арманкен") == "арманкен"
    assert fold("ҚЫЗМЕТ ӨНІМ ҮЙ ҰСТА ІС ҒЫЛЫМ ҢҺӘ") == "қызмет өнім үй ұста іс ғылым ңһә"
    assert fold("Ёлочка") == fold("елочка") == fold("е\u0308лочка") == "елочка"
    assert fold("ТОО «Арман»") == fold('ТОО "Арман"') == fold("ТОО „Арман“") == 'тоо "арман"'
    assert fold("А–2026—061") == "а-2026-061"
    assert fold("  ТОО \n «Арман» ") == 'тоо "арман"'


def test_the_migration_folds_existing_rows_exactly_as_the_app_folds():
    path = Path(__file__).parent.parent / "migrations/versions/search_01_folded_search_text.py"
    spec = importlib.util.spec_from_file_location("search_01", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    samples = ["ТОО «ҚЫЗМЕТ»", "Ёлка „в“ цехе", "А–2026—061", " a\tb  ", "", None, "Straße İ"]
    assert [migration.fold(s) for s in samples] == [fold(s) for s in samples]


@pytest.fixture
def world(any_app):
    """Records named in capitals, in Russian and in Kazakh, and one that no search below finds."""
    any_app.config["FAKE_TODAY"] = TODAY
    from ppp_tracker.auth.services import create_user

    armanken = factories.party(name="ТОО «АРМАНКЕН»", kind="contractor")
    qyzmet = factories.party(name="ЖШС «ҚЫЗМЕТ»", kind="contractor")
    institution = factories.institution(name="ҮЙ ҰСТАСЫ МЕКЕМЕСІ")
    project = factories.project(title="ӨНДІРІС ОРТАЛЫҒЫ «ЖАҢАҒАЛАМ»")
    site = factories.site(name="ЦЕХ «ЁЛОЧКА»", institution_obj=institution)
    contract = factories.contract(
        number="А-2026-061",
        contractor_id=armanken.id,
        project_id=project.id,
        subject="РАЗРАБОТКА ТЭО",
    )
    kazakh = factories.contract(
        number="Қ-2026-007", contractor_id=qyzmet.id, site_id=site.id, subject="Жеткізу"
    )
    other_project = factories.project(title="ДРУГОЙ ПРОЕКТ 999")
    factories.site(
        name="ДРУГОЙ УЧАСТОК 999",
        institution_obj=factories.institution(name="ДРУГОЕ УЧРЕЖДЕНИЕ 999"),
    )
    other = factories.contract(
        number="Б-1999-999", subject="Ремонт кровли", project_id=other_project.id
    )
    factories.milestone(contract, title="ПОСТАВКА ЁЛОК", due_on=date(2026, 6, 10))
    factories.milestone(other, title="Ремонт", due_on=date(2026, 6, 10))
    late = factories.milestone(kazakh, title="ҒИМАРАТ ЖӨНДЕУ", due_on=date(2026, 3, 2))
    drafting.create_claim(
        SYSTEM_USER, kazakh, {"milestone_ids": [late.id], "as_of": date(2026, 4, 15)}
    )
    cases.save_case(
        SYSTEM_USER,
        contract,
        {"filed_on": date(2026, 4, 20), "court_name": "СМЭС КАРАГАНДИНСКОЙ ОБЛАСТИ"},
    )
    send_email(Email(to=("a@example.kz",), subject="НАПОМИНАНИЕ О СРОКЕ «ПОСТАВКА»", text="-"))
    admin, _ = create_user("admin@example.kz", role="admin", region_code=None, password=PASSWORD)
    create_user("q@example.kz", role="viewer", name="ӘСЕЛ ҚЫЗМЕТКЕР", region_code="KZ-35")
    db.session.commit()
    client = any_app.test_client()
    login(client, admin)
    return {"client": client, "admin": admin}


def _page(client, url: str) -> str:
    # The query string as a browser sends it: text, percent-encoded UTF-8.
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# (page, what the user types, what it must find, what it must not)
PAGES = [
    ("/contracts", "арманкен", "А-2026-061", "Б-1999-999"),
    ("/contracts", "тэо", "А-2026-061", "Б-1999-999"),
    ("/contracts", "а-2026-061", "А-2026-061", "Б-1999-999"),
    ("/contracts", "А–2026–061", "А-2026-061", "Б-1999-999"),
    ("/contracts", "қызмет", "Қ-2026-007", "Б-1999-999"),
    ("/contracts", '"арманкен"', "А-2026-061", "Б-1999-999"),
    ("/parties", "арманкен", "ТОО «АРМАНКЕН»", "ЖШС «ҚЫЗМЕТ»"),
    ("/parties", "„арманкен“", "ТОО «АРМАНКЕН»", "ЖШС «ҚЫЗМЕТ»"),
    ("/parties", "жшс «қызмет»", "ЖШС «ҚЫЗМЕТ»", "ТОО «АРМАНКЕН»"),
    ("/projects", "жаңағалам", "ӨНДІРІС ОРТАЛЫҒЫ «ЖАҢАҒАЛАМ»", "ДРУГОЙ ПРОЕКТ 999"),
    ("/projects", "өндіріс", "ӨНДІРІС ОРТАЛЫҒЫ «ЖАҢАҒАЛАМ»", "ДРУГОЙ ПРОЕКТ 999"),
    ("/sites", "елочка", "ЦЕХ «ЁЛОЧКА»", "ДРУГОЙ УЧАСТОК 999"),
    ("/sites", 'цех "ёлочка"', "ЦЕХ «ЁЛОЧКА»", "ДРУГОЙ УЧАСТОК 999"),
    ("/institutions", "үй ұстасы", "ҮЙ ҰСТАСЫ МЕКЕМЕСІ", "ДРУГОЕ УЧРЕЖДЕНИЕ 999"),
    ("/claims?tab=all", "қызмет", "Қ-2026-007", "А-2026-061"),
    ("/claims?tab=all", "қ-2026-007", "Қ-2026-007", "А-2026-061"),
    ("/cases", "карагандинской", "А-2026-061", "Қ-2026-007"),
    ("/cases", "арманкен", "А-2026-061", "Қ-2026-007"),
    ("/deadlines", "поставка елок", "ПОСТАВКА ЁЛОК", "Ремонт"),
    ("/deadlines", "а-2026-061", "ПОСТАВКА ЁЛОК", "Ремонт"),
    ("/deadlines", "ғимарат", "ҒИМАРАТ ЖӨНДЕУ", "ПОСТАВКА ЁЛОК"),
    ("/admin/users", "әсел қызметкер", "ӘСЕЛ ҚЫЗМЕТКЕР", "admin@example.kz"),
    ("/outbox", "напоминание о сроке «поставка»", "НАПОМИНАНИЕ О СРОКЕ", None),
]


def test_every_list_finds_russian_and_kazakh_text_whatever_its_case_yo_and_quotes(world):
    client = world["client"]
    for path, typed, found, not_found in PAGES:
        sep = "&" if "?" in path else "?"
        html = _page(client, f"{path}{sep}q={typed}")
        assert found in html, (path, typed, found)
        if not_found:
            assert not_found not in html, (path, typed, not_found)


def test_a_search_that_matches_nothing_finds_nothing(world):
    """The other side of the lists above: the searches do narrow (and % and _ are literal)."""
    client = world["client"]
    for path in ("/contracts", "/parties", "/projects", "/sites", "/institutions"):
        for typed in ("арманкент", "%", "_"):
            html = _page(client, f"{path}?q={typed}")
            assert "АРМАНКЕН" not in html and "А-2026-061" not in html, (path, typed)


def _group(html: str, name: str) -> str:
    if f'id="results-{name}"' not in html:
        return ""
    return html.split(f'id="results-{name}"', 1)[1].split("</table>", 1)[0]


def test_the_global_search_finds_each_kind_of_record_in_russian_and_kazakh(world):
    client = world["client"]
    expected = [
        ("арманкен", "contracts", "А-2026-061"),
        ("арманкен", "parties", "ТОО «АРМАНКЕН»"),
        ("тэо", "contracts", "А-2026-061"),
        ("а-2026-061", "contracts", "А-2026-061"),
        ("қызмет", "contracts", "Қ-2026-007"),
        ("қызмет", "parties", "ЖШС «ҚЫЗМЕТ»"),
        ("жаңағалам", "projects", "ӨНДІРІС ОРТАЛЫҒЫ «ЖАҢАҒАЛАМ»"),
        ("елочка", "sites", "ЦЕХ «ЁЛОЧКА»"),
        ("«ёлочка»", "sites", "ЦЕХ «ЁЛОЧКА»"),
    ]
    for typed, group, found in expected:
        html = _page(client, f"/search?q={typed}")
        assert found in _group(html, group), (typed, group)
        assert "Б-1999-999" not in html


def test_the_api_q_finds_russian_and_kazakh_text(world, any_app):
    from ppp_tracker.auth.services import issue_token

    token = issue_token(world["admin"], "test")
    db.session.commit()
    client = any_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    expected = [
        ("contracts", "арманкен", "number", "А-2026-061"),
        ("contracts", "тэо", "number", "А-2026-061"),
        ("contracts", "қызмет", "number", "Қ-2026-007"),
        ("parties", "«арманкен»", "name", "ТОО «АРМАНКЕН»"),
        ("projects", "жаңағалам", "title", "ӨНДІРІС ОРТАЛЫҒЫ «ЖАҢАҒАЛАМ»"),
        ("sites", "елочка", "name", "ЦЕХ «ЁЛОЧКА»"),
        ("institutions", "үй ұстасы", "name", "ҮЙ ҰСТАСЫ МЕКЕМЕСІ"),
    ]
    for resource, typed, key, found in expected:
        response = client.get(f"/api/v1/{resource}?q={typed}", headers=headers)
        assert response.status_code == 200, (resource, response.get_json())
        assert [item[key] for item in response.get_json()] == [found], (resource, typed)


def test_the_folded_copy_is_kept_on_every_change_and_left_out_of_the_audit_log(any_app):
    """A rename is found by its new name at once (the flush refolds), and the audit log records
    the name, not its folded copy — for a user too, whose model names its own ignored columns."""
    import sqlalchemy as sa

    from ppp_tracker.auth.models import User
    from ppp_tracker.auth.services import create_user
    from ppp_tracker.core.audit import AuditEvent
    from ppp_tracker.core.folding import contains
    from ppp_tracker.registry.models import Party

    party = factories.party(name="ТОО «Старое»")
    user, _ = create_user("u@example.kz", role="viewer", name="Старое Имя", region_code=None)
    db.session.commit()
    party.name = "ТОО «ҚЫЗМЕТ»"
    user.name = "ӘСЕЛ"
    db.session.commit()
    assert db.session.scalars(
        sa.select(Party.id).where(contains(Party.search_text, "қызмет"))
    ).all() == [party.id]
    assert (
        db.session.scalars(sa.select(Party.id).where(contains(Party.search_text, "старое"))).all()
        == []
    )
    assert db.session.scalars(
        sa.select(User.id).where(contains(User.search_text, "әсел"))
    ).all() == [user.id]
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type.in_(["parties", "users"]))
    ).all()
    assert {e.action for e in events} >= {"create", "update"}
    assert all("search_text" not in e.changes for e in events)
    renamed = [e.changes for e in events if e.action == "update"]
    assert {"name": ["ТОО «Старое»", "ТОО «ҚЫЗМЕТ»"]} in renamed
