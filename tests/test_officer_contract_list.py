"""The contract list for daily work: overdue obligations, accrued penalty and the next due date of
each contract; an "at risk" filter and sorting by them in the database; the selection exported."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.core import versions
from ppp_tracker.db import db
from tests import factories
from tests.conftest import PASSWORD, login


@pytest.fixture
def new_user(any_app):
    from ppp_tracker.auth.services import create_user

    made = []

    def _make(role: str, region: str | None):
        user, _ = create_user(
            f"{role}{len(made)}@example.kz", role=role, region_code=region, password=PASSWORD
        )
        db.session.commit()
        made.append(user)
        return user

    return _make


@pytest.fixture
def world(any_app):
    """On 12.06.2014 (a Thursday): A is late since 05.05 and next due 20.06; B is due 16.06
    (within 7 days); C is due 30.07; D has nothing open; E is in another region."""
    any_app.config["FAKE_TODAY"] = date(2014, 6, 12)
    made = {}
    for key, day in (("A", date(2013, 1, 1)), ("B", date(2013, 2, 1)), ("C", date(2013, 3, 1))):
        made[key] = factories.contract(
            "KZ-35", number=f"Д-{key}", signed_on=day, total_amount=Decimal("77000000.00")
        )
    made["D"] = factories.contract("KZ-35", number="Д-D", signed_on=date(2013, 4, 1))
    made["E"] = factories.contract("KZ-63", number="Д-E", signed_on=date(2013, 5, 1))
    factories.milestone(made["A"], title="ТЭО", due_on=date(2014, 5, 5))
    factories.milestone(made["A"], title="Экспертиза", due_on=date(2014, 6, 20))
    factories.milestone(made["B"], title="Отчёт", due_on=date(2014, 6, 16))
    factories.milestone(made["C"], title="Оплата", due_on=date(2014, 7, 30))
    met = factories.milestone(made["D"], title="Сдано", due_on=date(2014, 5, 1))
    factories.milestone(made["E"], title="Чужое", due_on=date(2014, 5, 5))
    from ppp_tracker.auth.access import SYSTEM_USER
    from ppp_tracker.registry.services.milestones import mark_met

    mark_met(SYSTEM_USER, met, date(2014, 4, 30), None)
    db.session.commit()
    return made


def _rows(html: str) -> list[tuple[str, str, str, str]]:
    """(number, overdue, penalty, next due) of each row, in order."""
    out = []
    for row in re.findall(r'<tr data-contract="\d+">(.*?)</tr>', html, re.S):
        number = re.search(r'href="/contracts/\d+">([^<]+)</a>', row).group(1)
        cells = dict(re.findall(r'data-figure="(\w+)">([^<]*)</td>', row))
        out.append((number, cells["overdue"], cells["penalty"], cells["next_due"]))
    return out


def test_the_list_shows_each_contracts_overdue_count_penalty_and_next_due_date(
    any_app, world, new_user
):
    client = any_app.test_client()
    login(client, new_user("officer", "KZ-35"))
    rows = _rows(client.get("/contracts").get_data(as_text=True))
    # Newest signed first (the list's default order); E is in another region.
    # A: due 05.05.2014 (a Monday), 38 days late on 12.06 (06.05–12.06) × 0.1 % of 77,000,000.00.
    assert rows == [
        ("Д-D", "", "", ""),
        ("Д-C", "", "", "30.07.2014"),
        ("Д-B", "", "", "16.06.2014"),
        ("Д-A", "1", "2\u00a0926\u00a0000,00\u00a0₸", "20.06.2014"),
    ]


def test_at_risk_keeps_contracts_overdue_or_due_within_seven_days(any_app, world, new_user):
    client = any_app.test_client()
    login(client, new_user("manager", None))
    numbers = [r[0] for r in _rows(client.get("/contracts?risk=1").get_data(as_text=True))]
    # E (another region, late since 05.05) is at risk too for a manager of all regions.
    assert numbers == ["Д-E", "Д-B", "Д-A"]
    # Anything else than the filter's one value is no filter (never a 500).
    for junk in ("abc", "2", "1' OR 1=1"):
        r = client.get("/contracts", query_string=f"risk={junk}")
        assert r.status_code == 200 and len(_rows(r.get_data(as_text=True))) == 5


def test_sorting_by_overdue_and_by_next_due_is_done_by_the_database(any_app, world, new_user):
    client = any_app.test_client()
    login(client, new_user("officer", "KZ-35"))
    by_overdue = _rows(client.get("/contracts?sort=-overdue").get_data(as_text=True))
    assert by_overdue[0][0] == "Д-A"
    by_next = [r[0] for r in _rows(client.get("/contracts?sort=next_due").get_data(as_text=True))]
    # The nearest first; a contract with nothing open last.
    assert by_next == ["Д-B", "Д-A", "Д-C", "Д-D"]
    statements = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        with any_app.app_context():
            versions.forget_bodies()
        client.get("/contracts?sort=next_due&per_page=25&page=1")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    page = [s for s in statements if "ORDER BY" in s and "FROM contracts" in s]
    assert page and all("LIMIT" in s for s in page), page


def test_the_selection_is_exported_with_its_figures_and_only_within_the_scope(
    any_app, world, new_user
):
    client = any_app.test_client()
    login(client, new_user("officer", "KZ-35"))
    a, c, e = world["A"].id, world["C"].id, world["E"].id
    r = client.get(f"/export/contracts.csv?ids={a}&ids={c}&ids={e}")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    numbers = sorted(row[header.index("Номер")] for row in body)
    assert numbers == ["Д-A", "Д-C"]
    a_row = next(row for row in body if row[header.index("Номер")] == "Д-A")
    assert a_row[header.index("Просрочено")] == "1"
    assert a_row[header.index("Начислена неустойка")] == "2926000.00"
    assert a_row[header.index("Ближайший срок")] == "2014-06-20"
    # Ids that are not ids select nothing; the page still answers.
    r = client.get("/export/contracts.csv?ids=abc")
    assert r.status_code == 200
    assert len(list(csv.reader(io.StringIO(r.get_data(as_text=True))))) == 1


def test_several_milestones_are_marked_met_with_one_date_after_a_confirmation(
    any_app, world, new_user
):
    import sqlalchemy as sa

    from ppp_tracker.core.audit import AuditEvent
    from ppp_tracker.registry.models import Milestone
    from tests.conftest import post_form

    client = any_app.test_client()
    officer = new_user("officer", "KZ-35")
    login(client, officer)
    mine = db.session.scalars(
        sa.select(Milestone).where(Milestone.title.in_(["ТЭО", "Отчёт"])).order_by(Milestone.id)
    ).all()
    other = db.session.scalars(sa.select(Milestone).where(Milestone.title == "Чужое")).one()
    deadlines = client.get("/deadlines?state=open").get_data(as_text=True)
    assert 'id="bulk-met"' in deadlines and f'name="ids" value="{mine[0].id}"' in deadlines
    query = f"ids={mine[0].id}&ids={mine[1].id}&ids={other.id}&met_on=2014-06-11"
    confirm = client.get(f"/milestones/bulk-met?{query}").get_data(as_text=True)
    # The other region's obligation is not offered; nothing is changed before the confirmation.
    listed = re.findall(r'<tr data-milestone="(\d+)"', confirm)
    assert listed == [str(mine[0].id), str(mine[1].id)]
    assert db.session.scalar(sa.select(sa.func.count()).where(Milestone.met_on.is_not(None))) == 1
    events_before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    r = post_form(
        client,
        "/milestones/bulk-met",
        {"ids": [mine[0].id, mine[1].id, other.id], "met_on": "2014-06-11"},
        form_url=f"/milestones/bulk-met?{query}",
    )
    assert r.status_code == 302
    db.session.expire_all()
    for m in mine:
        assert db.session.get(Milestone, m.id).met_on == date(2014, 6, 11)
    assert db.session.get(Milestone, other.id).met_on is None
    # One audit entry per milestone, by the officer.
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "milestones", AuditEvent.action == "update"
        )
    ).all()
    assert sorted(int(e.entity_id) for e in events if e.actor == officer.email) == [
        m.id for m in mine
    ]
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events_before + 2
    # The dashboard counts them at once: A's overdue obligation is met, E is another region.
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'data-kpi="overdue".*?<div class="display-6[^"]*">0<', home, re.S)


def test_a_bulk_mark_needs_a_date_a_confirmation_and_the_right(any_app, world, new_user):
    import sqlalchemy as sa

    from ppp_tracker.registry.models import Milestone
    from tests.conftest import post_form

    first = db.session.scalars(sa.select(Milestone).where(Milestone.title == "ТЭО")).one()
    client = any_app.test_client()
    login(client, new_user("officer", "KZ-35"))
    for bad in ("", "31.02.2014", "2014-02-31", "2099-01-01"):
        r = client.get(f"/milestones/bulk-met?ids={first.id}&met_on={bad}")
        assert r.status_code == 422 and 'data-field-error="bulk"' in r.get_data(as_text=True)
    # Without the confirmation's token nothing happens.
    r = client.post("/milestones/bulk-met", data={"ids": first.id, "met_on": "2014-06-11"})
    assert r.status_code == 400
    viewer = any_app.test_client()
    login(viewer, new_user("viewer", None))
    assert viewer.get(f"/milestones/bulk-met?ids={first.id}&met_on=2014-06-11").status_code == 403
    r = post_form(
        client,
        "/milestones/bulk-met",
        {"ids": ["abc", str(2**40)], "met_on": "2014-06-11"},
        form_url="/deadlines",
    )
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.get(Milestone, first.id).met_on is None


def test_several_drafts_are_approved_after_a_confirmation_each_by_the_four_eyes_rule(
    any_app, new_user
):
    import sqlalchemy as sa

    from ppp_tracker.auth.access import SYSTEM_USER
    from ppp_tracker.claims import drafting
    from ppp_tracker.claims.models import Claim
    from ppp_tracker.core.audit import AuditEvent
    from tests.conftest import post_form

    any_app.config["FAKE_TODAY"] = date(2014, 6, 12)
    drafts = {}
    for key, region in (("X", "KZ-35"), ("Y", "KZ-35"), ("Z", "KZ-63")):
        contract = factories.contract(region, number=f"П-{key}")
        late = factories.milestone(contract, due_on=date(2014, 5, 5))
        drafts[key] = drafting.create_claim(
            SYSTEM_USER, contract, {"milestone_ids": [late.id], "as_of": date(2014, 6, 12)}
        )
    db.session.commit()
    lawyer, colleague = new_user("legal", "KZ-35"), new_user("legal", "KZ-35")
    # The lawyer changed draft X last: someone else must approve it (four eyes).
    drafts["X"].last_editor_id = lawyer.id
    db.session.commit()
    client = any_app.test_client()
    login(client, lawyer)
    queue = client.get("/claims").get_data(as_text=True)
    assert 'form="bulk-approve"' in queue and f'value="{drafts["Z"].id}"' not in queue
    ids = "&".join(f"ids={d.id}" for d in drafts.values())
    confirm = client.get(f"/claims/bulk-approve?{ids}").get_data(as_text=True)
    assert re.findall(r'<tr data-claim="(\d+)"', confirm) == [
        str(drafts["X"].id),
        str(drafts["Y"].id),
    ]
    assert db.session.scalar(sa.select(sa.func.count()).where(Claim.status == "approved")) == 0
    r = post_form(
        client,
        "/claims/bulk-approve",
        {"ids": [d.id for d in drafts.values()]},
        form_url=f"/claims/bulk-approve?{ids}",
    )
    assert r.status_code == 302
    db.session.expire_all()
    status = {k: db.session.get(Claim, d.id).status for k, d in drafts.items()}
    assert status == {"X": "draft", "Y": "approved", "Z": "draft"}
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "claims",
            AuditEvent.action == "update",
            AuditEvent.actor == lawyer.email,
        )
    ).all()
    # Only Y is changed, by the lawyer (approve_claim records its own steps as on the claim page).
    assert {e.entity_id for e in events} == {str(drafts["Y"].id)}
    page = client.get("/claims").get_data(as_text=True)
    assert "1 претензия утверждена." in page and "№ П-X" in page
    # Without the confirmation's token nothing happens; an officer may not approve.
    assert client.post("/claims/bulk-approve", data={"ids": drafts["X"].id}).status_code == 400
    officer = any_app.test_client()
    login(officer, new_user("officer", "KZ-35"))
    assert officer.get(f"/claims/bulk-approve?{ids}").status_code == 403
    assert colleague is not None
