"""The penalty in claims (DESIGN §4, issue 13): the letter's table with periods and days counted
in the letter's language, warnings that need acknowledging, drafting guards, and approvals that
cover only what was approved."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import drafting, scanning, sending
from ppp_tracker.db import db
from tests import factories
from tests.test_claims_letters import docx_text

D = Decimal


@pytest.fixture
def app(any_app):
    """Every test here runs on PostgreSQL and on the embedded SQLite default."""
    return any_app


@pytest.fixture
def case241(app, set_today):
    """Contract 241 (77,000,000.00, 0.1 % a day of the total, cap 10 %) with the state expertise
    due 01.05.2014 (effective 04.05.2014, a working Sunday) and the sectoral one due 01.07.2014."""
    set_today("2014-07-14")
    contract = factories.contract(
        number="241",
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": D("10")},
    )
    state = factories.milestone(
        contract, due_on=date(2014, 5, 1), title="Государственная экспертиза"
    )
    sector = factories.milestone(contract, due_on=date(2014, 7, 1), title="Отраслевая экспертиза")
    return contract, state, sector


def _draft(contract, milestones, as_of):
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [m.id for m in milestones], "as_of": as_of}
    )
    db.session.commit()
    return claim


def test_the_letter_table_shows_periods_and_days_counted_in_the_letters_language(
    client, make_user, api_token, case241
):
    contract, state, sector = case241
    claim = _draft(contract, [state, sector], date(2014, 7, 14))
    # 05.05–14.07.2014: 27 + 30 + 14 = 71 days × 77,000.00; the sectoral expertise's 13 days
    # (02.07–14.07) are days of the same delay, counted once.
    assert claim.penalty_total == D("77000.00") * 71 == D("5467000.00")
    reader = make_user("viewer")
    reader.locale = "en"
    db.session.commit()
    r = client.get(f"/api/v1/claims/{claim.id}/letter.docx?lang=ru", headers=api_token(reader))
    assert r.status_code == 200
    text = docx_text(r.data)
    assert "Total" not in text
    assert "Итого" in text
    rows = [line for line in text.splitlines() if " | " in line]
    # The first row is charged 05.05–14.07.2014, 71 days; the second none, and says where its
    # days are counted.
    assert "05.05.2014 – 14.07.2014 | 71 | 77 000 000,00 × 0,1 % × 71" in rows[1].replace(
        "\xa0", " "
    )
    assert "Отраслевая экспертиза" in rows[2] and "| — | 0 |" in rows[2]
    assert "дни просрочки учтены по обязательству выше" in rows[2]
    r = client.get(f"/api/v1/claims/{claim.id}/letter.docx?lang=kk", headers=api_token(reader))
    text = docx_text(r.data)
    assert "Total" not in text and "Итого" not in text


def test_a_sent_russian_letter_says_itogo_whoever_fetches_it(client, make_user, api_token, case241):
    contract, state, _sector = case241
    lawyer, other = make_user("legal"), make_user("legal")
    for u in (lawyer, other):
        u.locale = "en"
    db.session.commit()
    r = client.post(
        "/api/v1/claims",
        json={"contract_id": contract.id, "milestone_ids": [state.id], "as_of": "2014-06-12"},
        headers=api_token(lawyer),
    )
    assert r.status_code == 201, r.get_json()
    claim_id = r.get_json()["id"]
    r = client.post(f"/api/v1/claims/{claim_id}/approve", json={}, headers=api_token(other))
    assert r.status_code == 200, r.get_json()
    r = client.post(
        f"/api/v1/claims/{claim_id}/send",
        json={"sent_on": "2014-06-12", "acknowledge_kazakh_gaps": True},
        headers=api_token(other),
    )
    assert r.status_code == 200, r.get_json()
    r = client.get(f"/api/v1/claims/{claim_id}/letter.docx?lang=ru", headers=api_token(other))
    text = docx_text(r.data)
    assert "Итого" in text and "Total" not in text


# --- warnings that need acknowledging ------------------------------------------------------------


@pytest.fixture
def old_debt(app, set_today):
    """1,000,000.00 at 0.1 % a day of the total, no cap; due Mon 02.06.2014, never performed;
    looked at on 10.06.2017."""
    set_today("2017-06-10")
    contract = factories.contract(
        total_amount=D("1000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": None},
    )
    late = factories.milestone(contract, due_on=date(2014, 6, 2))
    return contract, late


def test_approving_a_penalty_with_warnings_needs_them_acknowledged_api(
    client, make_user, api_token, old_debt
):
    contract, late = old_debt
    drafter, approver = api_token(make_user("legal")), api_token(make_user("legal"))
    r = client.post(
        "/api/v1/claims",
        json={"contract_id": contract.id, "milestone_ids": [late.id], "as_of": "2017-06-10"},
        headers=drafter,
    )
    assert r.status_code == 201, r.get_json()
    claim = r.get_json()
    # 03.06.2014–10.06.2017 = 1,104 days × 1,000.00 = 1,104,000.00 > the contract's 1,000,000.00;
    # 03.06–09.06.2014 (7 days, 7,000.00) are older than three years on 10.06.2017.
    assert claim["penalty"] == "1104000.00"
    assert [w["code"] for w in claim["warnings"]] == ["above_contract_sum", "time_barred"]
    barred = claim["warnings"][1]
    assert (barred["days"], barred["amount"], barred["since"]) == (7, "7000.00", "2014-06-10")
    r = client.post(f"/api/v1/claims/{claim['id']}/approve", json={}, headers=approver)
    assert r.status_code == 422
    assert "acknowledge_warnings" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/claims/{claim['id']}/approve",
        json={"acknowledge_warnings": True},
        headers=approver,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "approved" and r.get_json()["warnings_acknowledged"]


def test_the_draft_page_shows_the_warnings_and_asks_to_confirm_them(client, make_user, old_debt):
    from tests.conftest import login, post_form

    contract, late = old_debt
    claim = _draft(contract, [late], date(2017, 6, 10))
    login(client, make_user("legal"))
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert 'id="penalty-warnings"' in page
    assert "суд может её уменьшить (ст. 297 ГК РК)" in page
    assert "7 дней периода" in page.replace("\xa0", " ")
    assert 'name="acknowledge_warnings"' in page
    r = post_form(client, f"/claims/{claim.id}/approve", {}, form_url=f"/claims/{claim.id}")
    assert r.status_code == 422
    db.session.refresh(claim)
    assert claim.status == "draft"
    r = post_form(
        client,
        f"/claims/{claim.id}/approve",
        {"acknowledge_warnings": "y"},
        form_url=f"/claims/{claim.id}",
    )
    assert r.status_code == 302
    db.session.refresh(claim)
    assert claim.status == "approved" and claim.warnings_acknowledged


# --- an approval covers what was approved --------------------------------------------------------


def test_sending_after_the_facts_changed_is_refused_until_approved_again(
    client, make_user, api_token, case241
):
    from ppp_tracker.registry.services.parties import save_party

    contract, state, _sector = case241
    drafter, approver = api_token(make_user("legal")), api_token(make_user("legal"))
    claim_id = client.post(
        "/api/v1/claims",
        json={"contract_id": contract.id, "milestone_ids": [state.id], "as_of": "2014-06-12"},
        headers=drafter,
    ).get_json()["id"]
    assert client.post(f"/api/v1/claims/{claim_id}/approve", headers=approver).status_code == 200
    # The contractor's name changes after the approval: the approved letter named another.
    save_party(SYSTEM_USER, {"name": "ТОО «Новое имя»"}, contract.contractor)
    db.session.commit()
    r = client.post(
        f"/api/v1/claims/{claim_id}/send",
        json={"sent_on": "2014-06-12", "acknowledge_kazakh_gaps": True},
        headers=approver,
    )
    assert r.status_code == 409
    said = " ".join(r.get_json()["errors"]["_request"])
    assert "ТОО «Новое имя»" in said
    assert client.get(f"/api/v1/claims/{claim_id}", headers=approver).get_json()["status"] == (
        "approved"
    )
    # Recomputed (back to a draft) and approved again, it goes.
    r = client.patch(f"/api/v1/claims/{claim_id}", json={"recompute": True}, headers=drafter)
    assert r.status_code == 200 and r.get_json()["status"] == "draft"
    assert r.get_json()["stale_reasons"] == []
    assert client.post(f"/api/v1/claims/{claim_id}/approve", headers=approver).status_code == 200
    r = client.post(
        f"/api/v1/claims/{claim_id}/send",
        json={"sent_on": "2014-06-12", "acknowledge_kazakh_gaps": True},
        headers=approver,
    )
    assert r.status_code == 200, r.get_json()


def test_a_draft_whose_obligation_was_met_is_stale_and_not_approvable(
    client, make_user, api_token, case241
):
    from ppp_tracker.registry.services.milestones import mark_met

    contract, state, _sector = case241
    claim = _draft(contract, [state], date(2014, 6, 12))
    mark_met(SYSTEM_USER, state, date(2014, 7, 10))
    db.session.commit()
    approver = make_user("legal")
    r = client.post(f"/api/v1/claims/{claim.id}/approve", headers=api_token(approver))
    assert r.status_code == 409
    said = " ".join(r.get_json()["errors"]["_request"])
    assert "recompute" in said.lower() or "пересчитайте" in said.lower()
    assert "Государственная экспертиза" in said
    # The page says why instead of offering the button.
    from tests.conftest import login

    login(client, approver)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert 'id="approval-refused"' in page and 'id="approve-button"' not in page


# --- drafting guards -----------------------------------------------------------------------------


def test_the_scan_drafts_nothing_for_a_contract_with_a_pending_case(app, case241):
    from ppp_tracker.claims import cases
    from ppp_tracker.claims.models import Claim
    from ppp_tracker.core.audit import Actor, acting_as

    contract, _state, _sector = case241
    case = cases.save_case(SYSTEM_USER, contract, {"filed_on": date(2014, 7, 3)})
    db.session.commit()
    with acting_as(Actor("worker:claims.scan")):
        result = scanning.scan(date(2014, 7, 14))
        db.session.commit()
    assert result.drafted == [] and db.session.query(Claim).count() == 0
    # Once the court has decided, the scan drafts again.
    cases.save_case(
        SYSTEM_USER, contract, {"outcome": "won", "decided_on": date(2014, 7, 14)}, case
    )
    db.session.commit()
    with acting_as(Actor("worker:claims.scan")):
        result = scanning.scan(date(2014, 7, 14))
        db.session.commit()
    assert len(result.drafted) == 1


# --- the lone regional lawyer --------------------------------------------------------------------


def test_a_lawyer_who_edited_a_draft_is_told_who_approves_it_instead_of_a_button(
    client, make_user, case241
):
    from tests.conftest import login

    contract, state, _sector = case241
    lawyer = make_user("legal", "KZ-35")
    committee = make_user("legal", None)  # the Committee's lawyer sees every region
    claim = drafting.create_claim(
        lawyer, contract, {"milestone_ids": [state.id], "as_of": date(2014, 6, 12)}
    )
    db.session.commit()
    login(client, lawyer)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert 'id="approve-button"' not in page
    assert 'id="approval-refused"' in page and committee.email in page


def test_a_truly_lone_lawyer_may_approve_their_own_draft_and_is_told_so(client, make_user, case241):
    from tests.conftest import login

    contract, state, _sector = case241
    lawyer = make_user("legal", "KZ-35")
    claim = drafting.create_claim(
        lawyer, contract, {"milestone_ids": [state.id], "as_of": date(2014, 6, 12)}
    )
    db.session.commit()
    login(client, lawyer)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert 'id="approve-button"' in page and 'id="approval-refused"' not in page


# --- the demo tells the true story ---------------------------------------------------------------


@pytest.mark.slow
def test_a_fresh_demo_and_scan_draft_no_claim_for_contract_241_while_its_case_is_pending(
    app, client, make_user
):
    import sqlalchemy as sa

    from ppp_tracker.claims.models import Case, Claim
    from ppp_tracker.registry.models import Contract
    from tests.conftest import login

    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "demo"]).exit_code == 0
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["claims", "scan", "--no-notify"])
    assert result.exit_code == 0, result.output
    [contract] = db.session.scalars(sa.select(Contract).where(Contract.number == "241")).all()
    [case] = db.session.scalars(sa.select(Case).where(Case.contract_id == contract.id)).all()
    assert case.outcome == "pending"
    claims = db.session.scalars(sa.select(Claim).where(Claim.contract_id == contract.id)).all()
    # Only the article's three letters: nothing drafted by the scan while the suit is pending.
    assert sorted(c.outgoing_number for c in claims) == [
        "14-28-9-1987",
        "14-28-9-2245",
        "14-28-9-2462",
    ]
    # The standard procurement clause, marked as assumed with the dates and the reply period.
    assert (contract.penalty_rate_percent, contract.penalty_cap_percent) == (D("0.1"), D("10"))
    for assumed in ("01.05.2014", "01.07.2014", "0,1 %", "не более 10 %", "10 рабочих дней"):
        assert assumed in contract.assumptions
    login(client, make_user("viewer", None))
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="contract-assumptions"' in page
    # Years later the cap holds the contract's whole penalty: 10 % × 77,000,000.00 =
    # 7,700,000.00 (100 days from 05.05.2014), not one cap per late obligation.
    from ppp_tracker import clock
    from ppp_tracker.deadlines.penalty import contract_penalty

    result = contract_penalty(contract, clock.today())
    assert result.total == D("7700000.00")
    cap, barred = result.warnings
    assert (cap.code, cap.amount) == ("cap_reached", D("7700000.00"))
    # …and all of it is for days of 2014, more than three years ago: the lawyer is told so.
    assert (barred.code, barred.amount) == ("time_barred", D("7700000.00"))


def test_the_contract_page_explains_which_days_each_obligation_is_charged(
    client, make_user, case241
):
    from tests.conftest import login

    contract, _state, _sector = case241
    login(client, make_user("officer"))
    page = client.get(f"/contracts/{contract.id}?penalty_as_of=2014-07-14").get_data(as_text=True)
    page = page.replace("\xa0", " ")
    # The state expertise: 05.05–14.07.2014, 71 days × 77,000.00 = 5,467,000.00.
    assert "× 71 день = 5 467 000,00 ₸" in page  # 71 день, 72 дня, 75 дней (ngettext)
    # The sectoral expertise is 13 days late, all of them days of the same delay.
    assert "Ни один день на него не относится" in page
    assert "Всего неустойка: 5 467 000,00 ₸." in page
    assert 'id="penalty-warnings"' not in page


def test_the_page_says_why_an_approved_claim_is_not_sent_after_a_change(client, make_user, case241):
    from ppp_tracker.registry.services.contracts import save_contract
    from tests.conftest import login, post_form

    contract, state, _sector = case241
    claim = _draft(contract, [state], date(2014, 6, 12))
    sending.approve_claim(SYSTEM_USER, claim)
    db.session.commit()
    # After the approval the contract's sum is corrected: the letter would name another amount.
    save_contract(SYSTEM_USER, {"total_amount": D("70000000.00")}, contract)
    db.session.commit()
    login(client, make_user("legal"))
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert 'id="approval-stale"' in page
    assert "Договор № 241 изменён: сумма" in page
    r = post_form(
        client,
        f"/claims/{claim.id}/send",
        {"sent_on": "2014-06-12"},
        form_url=f"/claims/{claim.id}",
        follow_redirects=True,
    )
    text = r.get_data(as_text=True)
    assert "Согласование больше не относится к письму" in text
    db.session.refresh(claim)
    assert claim.status == "approved" and claim.outgoing_number is None
