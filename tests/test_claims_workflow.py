"""The claim workflow's rules through the services: drafting by the scan (grace period, once per
milestone and stage), versions, four eyes, sending, immutability, replies, the escalation ladder,
lawsuit recommendations, and due dates that count from a claim's sending."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import (
    cases,
    drafting,
    escalation,
    ladder,
    scanning,
    sending,
    staff_notices,
    versions,
)
from ppp_tracker.claims.models import Claim, ClaimMilestone, ClaimNotice, LawsuitFlag
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.services.milestones import save_milestone
from tests import factories

D = Decimal


@pytest.fixture
def contract(app):
    return factories.contract(
        total_amount=D("77000000.00"),
        penalty={"rate_percent_per_day": D("0.1"), "base": "total", "cap_percent": None},
    )


def _scan(day: str):
    with acting_as(Actor("worker:claims.scan")):
        result = scanning.scan(date.fromisoformat(day))
        db.session.commit()
    return result


def _claims() -> list[Claim]:
    return db.session.scalars(sa.select(Claim).order_by(Claim.id)).all()


def _draft(user, contract, milestone, as_of="2014-06-12") -> Claim:
    with acting_as(Actor(getattr(user, "email", "system"), getattr(user, "id", None))):
        claim = drafting.create_claim(
            user, contract, {"milestone_ids": [milestone.id], "as_of": date.fromisoformat(as_of)}
        )
        db.session.commit()
    return claim


def _approve_and_send(claim, approver, sent_on="2014-06-12") -> Claim:
    sending.approve_claim(approver, claim)
    sending.send_claim(approver, claim, date.fromisoformat(sent_on), acknowledge_kazakh_gaps=True)
    db.session.commit()
    return claim


# --- drafting by the scan ------------------------------------------------------------------------


def test_a_draft_waits_for_the_grace_period_then_comes_once(contract, set_today):
    # Due Thursday 01.05.2014 → effective Sunday 04.05.2014 (a working day by decree); one
    # working day of grace ends Monday 05.05.2014, so the draft comes on Tuesday 06.05.2014.
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    set_today("2014-05-06")
    assert _scan("2014-05-05").drafted == []
    result = _scan("2014-05-06")
    [claim] = _claims()
    assert result.drafted == [claim.id]
    assert (claim.status, claim.sequence, claim.as_of) == ("draft", 1, date(2014, 5, 6))
    assert claim.milestone_ids == [m.id]
    assert claim.penalty_total == D("154000.00")  # 2 days × 77,000.00
    assert claim.drafted_by == "worker:claims.scan" and claim.last_editor_id is None
    # Scanning again, a day later or twice the same day, drafts nothing more.
    set_today("2014-05-07")
    assert _scan("2014-05-07").drafted == [] and _scan("2014-05-07").drafted == []
    assert len(_claims()) == 1


def test_the_grace_period_is_counted_in_working_days_of_the_contract(app, set_today):
    c = factories.contract(grace_working_days=3)
    factories.milestone(c, due_on=date(2014, 6, 6))  # a Friday
    set_today("2014-06-12")
    # Grace: Mon 09, Tue 10, Wed 11.06 → drafted from Thursday 12.06.2014.
    assert _scan("2014-06-11").drafted == []
    assert len(_scan("2014-06-12").drafted) == 1


def test_late_obligations_of_one_contract_go_into_one_letter(contract, set_today):
    a = factories.milestone(contract, due_on=date(2014, 5, 1))
    b = factories.milestone(contract, due_on=date(2014, 5, 20))
    factories.milestone(contract, due_on=date(2014, 5, 20), obligor="customer")
    factories.milestone(contract, due_on=date(2014, 5, 20), status="met", met_on=date(2014, 5, 19))
    set_today("2014-06-12")
    _scan("2014-06-12")
    [claim] = _claims()
    assert sorted(claim.milestone_ids) == sorted([a.id, b.id])
    # a late 05.05–12.06 (39 days), b late 21.05–12.06 (23 days) — all of them days of a's
    # delay too: a day of the contract's delay counts once (DESIGN §4), 39 × 77,000.00.
    assert claim.penalty_total == D("77000.00") * 39 == D("3003000.00")


def test_a_second_draft_for_the_same_milestone_and_stage_is_impossible(contract, set_today):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    set_today("2014-06-12")
    first = _draft(SYSTEM_USER, contract, m)
    with pytest.raises(Conflict) as refused:
        _draft(SYSTEM_USER, contract, m)
    db.session.rollback()
    assert f"id {first.id}" in str(refused.value)
    # Even past the checks, the unique key refuses it.
    db.session.add(
        ClaimMilestone(
            claim_id=first.id,
            milestone_id=m.id,
            sequence=1,
            title="x",
            due_on=m.due_on,
            effective_due_on=m.due_on,
            counted_until=m.due_on,
            days_late=1,
            base=D("1.00"),
            daily_amount=D("1.00"),
            accrued=D("1.00"),
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_withdrawn_draft_is_not_drafted_again_by_the_scan(contract, set_today):
    factories.milestone(contract, due_on=date(2014, 5, 1))
    set_today("2014-06-12")
    _scan("2014-06-12")
    [claim] = _claims()
    escalation.withdraw_claim(SYSTEM_USER, claim, "Исполнитель представил ТЭО, ждём экспертизу")
    db.session.commit()
    assert _scan("2014-06-13").drafted == []
    escalation.restore_claim(SYSTEM_USER, claim)
    db.session.commit()
    assert claim.status == "draft"


def test_a_claim_needs_a_late_obligation_of_its_own_contract(contract, set_today):
    set_today("2014-06-12")
    on_time = factories.milestone(contract, due_on=date(2014, 7, 1))
    other = factories.milestone(factories.contract(), due_on=date(2014, 5, 1))
    with pytest.raises(Invalid) as refused:
        drafting.create_claim(
            SYSTEM_USER,
            contract,
            {"milestone_ids": [on_time.id, other.id], "as_of": date(2014, 6, 12)},
        )
    messages = " ".join(refused.value.errors["milestone_ids"])
    assert "не просрочено на 12.06.2014" in messages
    assert f"нет обязательства с id {other.id}" in messages
    with pytest.raises(Invalid) as refused:
        drafting.create_claim(
            SYSTEM_USER, contract, {"milestone_ids": [on_time.id], "as_of": date(2014, 6, 13)}
        )
    assert refused.value.errors["as_of"] == [
        "Неустойку нельзя рассчитать на дату позже сегодняшней."
    ]


# --- versions and four eyes ----------------------------------------------------------------------


def test_edits_before_sending_are_versions_and_undo_an_approval(contract, make_user, set_today):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer, colleague = make_user("legal"), make_user("legal")
    set_today("2014-06-30")
    claim = _draft(SYSTEM_USER, contract, m)  # drafted by the workers: anyone may approve
    sending.approve_claim(lawyer, claim)
    db.session.commit()
    assert claim.status == "approved" and not claim.self_approved
    with acting_as(Actor(lawyer.email, lawyer.id)):
        drafting.update_claim(lawyer, claim, {"as_of": date(2014, 6, 30)})
        db.session.commit()
    assert claim.status == "draft" and claim.approved_by_id is None
    assert claim.penalty_total == D("4389000.00")
    assert [v.number for v in claim.versions] == [1, 2]
    [(_v1, drafted), (_v2, changed)] = versions.version_changes(claim)
    assert drafted == {}
    assert changed["as_of"] == ("12.06.2014", "30.06.2014")
    assert changed["penalty_total"] == ("3003000.00", "4389000.00")
    assert claim.versions[1].actor == lawyer.email
    # An edit that changes nothing is no new version.
    drafting.update_claim(lawyer, claim, {"as_of": date(2014, 6, 30)})
    db.session.commit()
    assert len(claim.versions) == 2
    # Four eyes: the last editor may not approve; the colleague may.
    with pytest.raises(Conflict) as refused:
        sending.approve_claim(lawyer, claim)
    assert "согласовать его должен другой сотрудник" in str(refused.value)
    assert colleague.name in str(refused.value)
    db.session.rollback()
    sending.approve_claim(colleague, claim)
    db.session.commit()
    assert claim.approved_by_id == colleague.id and claim.prepared_by_id == lawyer.id


def test_the_only_person_who_may_approve_may_approve_their_own_draft(app, make_user, set_today):
    # The only legal user and no admin for the region's claims: self-approval, and it shows.
    c = factories.contract(region="KZ-63")
    m = factories.milestone(c, due_on=date(2014, 5, 1))
    alone = make_user("legal", "KZ-63")
    make_user("legal", "KZ-35")  # another region's lawyer cannot approve KZ-63's letters
    set_today("2014-06-12")
    claim = _draft(alone, c, m)
    sending.approve_claim(alone, claim)
    db.session.commit()
    assert claim.status == "approved" and claim.self_approved


def test_an_admin_counts_as_the_second_pair_of_eyes(app, make_user, set_today):
    c = factories.contract(region="KZ-63")
    m = factories.milestone(c, due_on=date(2014, 5, 1))
    alone = make_user("legal", "KZ-63")
    make_user("admin", None)
    set_today("2014-06-12")
    claim = _draft(alone, c, m)
    with pytest.raises(Conflict):
        sending.approve_claim(alone, claim)


# --- sending and immutability --------------------------------------------------------------------


def test_sending_needs_approval_and_happens_once(contract, make_user, set_today):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    set_today("2014-06-12")
    claim = _draft(SYSTEM_USER, contract, m)
    with pytest.raises(Conflict) as refused:
        sending.send_claim(lawyer, claim, date(2014, 6, 12), acknowledge_kazakh_gaps=True)
    assert str(refused.value) == "_request: Согласуйте претензию перед отправкой."
    db.session.rollback()
    _approve_and_send(claim, lawyer)
    assert claim.outgoing_number == "14-28-9-1" and claim.response_due_on == date(2014, 6, 26)
    with pytest.raises(Conflict) as refused:
        sending.send_claim(lawyer, claim, date(2014, 6, 12), acknowledge_kazakh_gaps=True)
    assert "уже отправлена под № 14-28-9-1 12.06.2014" in str(refused.value)
    db.session.rollback()
    with pytest.raises(Conflict) as refused:
        drafting.update_claim(lawyer, claim, {"facts_note": "Новый факт"})
    assert "отправленное письмо не меняется" in str(refused.value)
    db.session.rollback()
    with pytest.raises(Conflict):
        sending.approve_claim(lawyer, claim)


def test_a_letter_cannot_be_sent_before_its_penalty_date_or_in_the_future(
    contract, make_user, set_today
):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    set_today("2014-06-12")
    claim = _draft(SYSTEM_USER, contract, m)
    sending.approve_claim(lawyer, claim)
    for day, message in (
        (date(2014, 6, 11), "Неустойка рассчитана на 12.06.2014"),
        (date(2014, 6, 13), "Письмо нельзя отправить будущей датой."),
    ):
        with pytest.raises(Invalid) as refused:
            sending.send_claim(lawyer, claim, day, acknowledge_kazakh_gaps=True)
        assert message in refused.value.errors["sent_on"][0]
    assert claim.status == "approved" and claim.outgoing_number is None


@pytest.mark.parametrize(
    ("sent_on", "days", "working", "due"),
    [
        ("2014-06-30", 10, True, "2014-07-15"),  # 07.07.2014 (Capital Day moved) was off
        ("2014-06-12", 10, True, "2014-06-26"),
        ("2014-04-30", 3, True, "2014-05-06"),  # 01–02.05 holidays, Sun 04.05 worked
        ("2014-06-30", 10, False, "2014-07-10"),
        # 26.06 + 10 calendar days is Sunday 06.07.2014, and Monday 07.07.2014 was off too.
        ("2014-06-26", 10, False, "2014-07-08"),
    ],
)
def test_the_reply_deadline_follows_the_contract_and_the_calendar(app, sent_on, days, working, due):
    c = factories.contract(response_period={"days": days, "working": working})
    assert ladder.response_due(c, date.fromisoformat(sent_on)) == date.fromisoformat(due)


# --- replies and the ladder ----------------------------------------------------------------------


def test_an_unanswered_claim_leads_to_the_next_and_the_third_to_a_lawsuit(
    contract, make_user, set_today
):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    set_today("2014-06-12")
    first = _approve_and_send(_draft(SYSTEM_USER, contract, m), lawyer)
    set_today("2014-06-26")
    assert _scan("2014-06-26").drafted == []  # the deadline day itself is still theirs
    set_today("2014-06-27")
    [second_id] = _scan("2014-06-27").drafted
    second = db.session.get(Claim, second_id)
    assert first.status == "escalated"
    assert (second.sequence, second.previous_id, second.as_of) == (2, first.id, date(2014, 6, 27))
    _approve_and_send(second, lawyer, "2014-06-27")
    set_today("2014-07-15")
    [third_id] = _scan("2014-07-15").drafted
    third = _approve_and_send(db.session.get(Claim, third_id), lawyer, "2014-07-15")
    assert third.sequence == 3
    set_today("2014-07-31")
    result = _scan("2014-07-31")
    assert result.drafted == [] and result.escalated == [third.id]
    [flag] = db.session.scalars(sa.select(LawsuitFlag)).all()
    assert (flag.claim_id, flag.reason, flag.contract_id) == (third.id, "unanswered", contract.id)
    assert _scan("2014-08-01").flagged == []  # once
    notices = db.session.scalars(sa.select(ClaimNotice).where(ClaimNotice.kind == "lawsuit")).all()
    assert [(n.claim_id, n.user_id) for n in notices] == [(third.id, lawyer.id)]


def test_an_answer_stops_the_ladder_and_a_cure_settles_it(contract, make_user, set_today):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    set_today("2014-06-12")
    claim = _approve_and_send(_draft(SYSTEM_USER, contract, m), lawyer)
    set_today("2014-06-20")
    escalation.record_reply(
        lawyer,
        claim,
        {"received_on": date(2014, 6, 20), "kind": "answer", "summary": "Просим отсрочку"},
    )
    db.session.commit()
    assert claim.status == "answered"
    set_today("2014-07-01")
    assert _scan("2014-07-01").drafted == []
    # Legal staff go on anyway; then the contractor performs and pays.
    follower = escalation.escalate_claim(lawyer, claim, "next_claim", date(2014, 7, 1))
    db.session.commit()
    assert (follower.sequence, follower.status, claim.status) == (2, "draft", "escalated")
    escalation.record_reply(
        lawyer,
        claim,
        {"received_on": date(2014, 7, 1), "kind": "cure", "paid_amount": D("3003000.00")},
    )
    db.session.commit()
    assert claim.status == "cured"
    assert follower.status == "withdrawn"
    assert (
        follower.withdrawn_reason == "Подрядчик исполнил обязательства после претензии № 14-28-9-1."
    )
    with pytest.raises(Conflict):
        escalation.record_reply(lawyer, claim, {"received_on": date(2014, 7, 1), "kind": "cure"})


def test_a_reply_before_the_claim_or_for_a_draft_is_refused(contract, make_user, set_today):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    set_today("2014-06-12")
    claim = _draft(SYSTEM_USER, contract, m)
    with pytest.raises(Conflict):
        escalation.record_reply(lawyer, claim, {"received_on": date(2014, 6, 12), "kind": "answer"})
    _approve_and_send(claim, lawyer)
    with pytest.raises(Invalid) as refused:
        escalation.record_reply(lawyer, claim, {"received_on": date(2014, 6, 11), "kind": "maybe"})
    assert set(refused.value.errors) == {"received_on", "kind"}


def test_legal_staff_may_recommend_a_lawsuit_and_opening_the_case_resolves_it(
    contract, make_user, set_today
):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    set_today("2014-06-12")
    claim = _approve_and_send(_draft(SYSTEM_USER, contract, m), lawyer)
    flag = escalation.escalate_claim(lawyer, claim, "lawsuit", note="Исполнитель не отвечает")
    db.session.commit()
    assert (flag.reason, claim.status) == ("decision", "escalated")
    assert cases.open_flags(lawyer) == [flag]
    set_today("2014-07-03")
    case = cases.save_case(
        lawyer,
        contract,
        {"filed_on": date(2014, 7, 3), "claims_register": True, "claim_ids": [claim.id]},
    )
    db.session.commit()
    assert flag.case_id == case.id and cases.open_flags(lawyer) == []
    assert case.court_name == contract.region.court_name
    with pytest.raises(Invalid) as refused:
        cases.save_case(
            lawyer,
            contract,
            {"outcome": "won", "amount_awarded": D("1.00"), "amount_paid": D("2.00")},
            case,
        )
    assert set(refused.value.errors) == {"decided_on", "amount_paid"}


def test_a_hearing_is_a_milestone_of_the_contract(contract, make_user, set_today):
    lawyer = make_user("legal")
    set_today("2014-07-03")
    case = cases.save_case(lawyer, contract, {"filed_on": date(2014, 7, 3)})
    hearing = cases.add_hearing(lawyer, case, {"hearing_on": date(2014, 8, 12), "note": "Зал 5"})
    db.session.commit()
    milestone = hearing.milestone
    assert (milestone.contract_id, milestone.due_on, milestone.obligor) == (
        contract.id,
        date(2014, 8, 12),
        "customer",
    )
    assert milestone.responsible_id == lawyer.id and "Специализированный" in milestone.title
    set_today("2014-08-12")
    cases.hearing_held(lawyer, case, milestone, date(2014, 8, 12))
    db.session.commit()
    assert milestone.status == "met" and milestone.met_on == date(2014, 8, 12)


# --- a due date that counts from the sending of a claim ------------------------------------------


def test_a_milestone_can_count_from_the_sending_of_a_claim(contract, make_user, set_today):
    m = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = make_user("legal")
    set_today("2014-06-12")
    claim = _draft(SYSTEM_USER, contract, m)
    pay = save_milestone(
        SYSTEM_USER,
        contract,
        {
            "title": "Уплата неустойки по претензии",
            "type": "payment",
            "relative": {"claim_id": claim.id, "amount": 10, "unit": "working_days"},
        },
    )
    db.session.commit()
    assert pay.due_on is None and pay.is_relative
    set_today("2014-06-30")
    _approve_and_send(claim, lawyer, "2014-06-30")
    db.session.refresh(pay)
    assert pay.due_on == date(2014, 7, 15)
    [change] = pay.due_date_changes
    assert change.reason == "10 рабочих дней после отправки претензии № 14-28-9-1"
    with pytest.raises(Invalid) as refused:
        save_milestone(
            SYSTEM_USER,
            factories.contract(),
            {
                "title": "x",
                "type": "payment",
                "relative": {"claim_id": claim.id, "amount": 1, "unit": "calendar_days"},
            },
        )
    assert "relative.claim_id" in refused.value.errors


# --- who is told, and e-mails whose task was lost -------------------------------------------------


def test_without_legal_staff_in_the_region_the_admins_are_told(app, make_user, set_today):
    c = factories.contract(region="KZ-63")
    factories.milestone(c, due_on=date(2014, 5, 1))
    admin = make_user("admin", None)
    make_user("legal", "KZ-35")  # Karaganda's lawyer does not hear of East Kazakhstan's claims
    make_user("officer", "KZ-63")
    set_today("2014-06-12")
    _scan("2014-06-12")
    notices = db.session.scalars(sa.select(ClaimNotice)).all()
    assert [(n.kind, n.user_id, n.email, n.status) for n in notices] == [
        ("drafted", admin.id, admin.email, "pending")
    ]


def test_a_notice_whose_task_was_lost_is_found_again(contract, make_user, set_today):
    make_user("legal")
    factories.milestone(contract, due_on=date(2014, 5, 1))
    set_today("2014-06-12")
    _scan("2014-06-12")
    [notice] = db.session.scalars(sa.select(ClaimNotice)).all()
    assert staff_notices.stale_notices() == []  # just written: its task is on its way
    notice.created_at = notice.created_at - timedelta(minutes=6)
    db.session.commit()
    assert staff_notices.stale_notices() == [notice.id]
    assert staff_notices.take_notice(notice.id) and not staff_notices.take_notice(notice.id)
    db.session.commit()
    assert staff_notices.stale_notices() == []


def test_a_notice_whose_sender_died_or_whose_retry_was_lost_is_found_again(
    app, contract, make_user, set_today
):
    """A notice left "sending" (its worker was killed, or the database restarted under it) is
    taken over once its lease runs out; a refused one whose retry message the broker lost is
    queued again once that retry is overdue; neither before."""
    from ppp_tracker import clock

    app.config.update(ALERT_SEND_LEASE_SECONDS=600, ALERT_REQUEUE_AFTER_SECONDS=120)
    make_user("legal")
    factories.milestone(contract, due_on=date(2014, 5, 1))
    set_today("2014-06-12")
    _scan("2014-06-12")
    [notice] = db.session.scalars(sa.select(ClaimNotice)).all()
    assert staff_notices.take_notice(notice.id)
    db.session.commit()
    db.session.refresh(notice)
    assert notice.claimed_at is not None
    now = clock.now()
    assert not staff_notices.take_notice(notice.id)  # someone is sending it
    assert staff_notices.stale_notices(now + timedelta(seconds=599)) == []
    assert staff_notices.stale_notices(now + timedelta(seconds=601)) == [notice.id]
    notice.claimed_at = now - timedelta(seconds=601)  # the sender died ten minutes ago
    db.session.commit()
    assert staff_notices.take_notice(notice.id)  # taken over
    db.session.commit()
    db.session.refresh(notice)
    assert (str(notice.status), notice.attempts) == ("sending", 2)

    notice.status, notice.next_attempt_at = "failed", now + timedelta(seconds=300)
    db.session.commit()
    assert staff_notices.stale_notices(now + timedelta(seconds=300 + 119)) == []  # its task is due
    assert staff_notices.stale_notices(now + timedelta(seconds=300 + 121)) == [notice.id]  # lost
    app.config["ALERT_MAX_ATTEMPTS"] = 2
    assert staff_notices.stale_notices(now + timedelta(seconds=300 + 121)) == []  # given up


def test_the_scan_and_the_counter_from_the_command_line(app, contract, set_today):
    factories.milestone(contract, due_on=date(2014, 5, 1))
    set_today("2014-06-12")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["claims", "scan", "--as-of", "2014-06-12", "--no-notify"])
    assert result.exit_code == 0, result.output
    assert "as of 2014-06-12: drafted 1, escalated 0" in result.output
    assert len(_claims()) == 1
    assert runner.invoke(args=["claims", "scan", "--as-of", "12.06.2014"]).exit_code == 2
    result = runner.invoke(args=["claims", "numbering"])
    assert result.output.strip() == "14-28-9: last used 14-28-9-0"
