"""Outgoing numbers: unique, never reused, correct under concurrent sends (threads with their own
sessions on PostgreSQL), typed with Word's en-dashes, moved only forward."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import drafting, numbering, sending
from ppp_tracker.claims.models import Claim, OutgoingSequence
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.db import db
from tests import factories


@pytest.mark.parametrize(
    ("typed", "seq"),
    [
        ("14-28-9-1987", 1987),
        ("14–28–9-1987", 1987),  # en-dashes, as in the article
        ("№ 14—28—9–1987", 1987),  # em-dashes and the № sign
        (" 1987 ", 1987),  # the prefix is the department's
    ],
)
def test_numbers_are_read_as_people_type_them(app, typed, seq):
    assert numbering.parse_number(typed) == numbering.OutgoingNumber("14-28-9", seq)


@pytest.mark.parametrize("typed", ["", "14-28-9-", "15-28-9-1987", "14-28-9-19a7", "0"])
def test_other_text_is_not_a_number(app, typed):
    with pytest.raises(Invalid):
        numbering.parse_number(typed)


def test_the_counter_moves_only_forward(app):
    numbering.set_last_used("14–28–9-1986")
    db.session.commit()
    assert numbering.take_next() == numbering.OutgoingNumber("14-28-9", 1987)
    db.session.commit()
    with pytest.raises(Invalid) as refused:
        numbering.set_last_used("14-28-9-1900")
    assert "счётчик движется только вперёд" in refused.value.errors["last_number"][0]
    db.session.rollback()
    assert numbering.last_used() == 1987


def test_a_rolled_back_send_gives_its_number_back(app):
    assert numbering.take_next().seq == 1
    db.session.rollback()
    assert numbering.take_next().seq == 1
    db.session.commit()
    assert numbering.take_next().seq == 2


def _approved_claims(n: int) -> list[int]:
    contract = factories.contract()
    ids = []
    for _ in range(n):
        m = factories.milestone(contract, due_on=date(2014, 5, 1))
        claim = drafting.create_claim(
            SYSTEM_USER, contract, {"milestone_ids": [m.id], "as_of": date(2014, 6, 12)}
        )
        sending.approve_claim(SYSTEM_USER, claim)
        ids.append(claim.id)
    db.session.commit()
    return ids


def _send_in_threads(app, claim_ids: list[int]) -> list:
    """Each thread sends one claim in its own app context, session and connection."""
    barrier = threading.Barrier(len(claim_ids))
    outcomes: list = [None] * len(claim_ids)

    def send(index: int, claim_id: int) -> None:
        with app.app_context():
            try:
                claim = db.session.get(Claim, claim_id)
                barrier.wait(timeout=30)
                sending.send_claim(
                    SYSTEM_USER, claim, date(2014, 6, 12), acknowledge_kazakh_gaps=True
                )
                db.session.commit()
                outcomes[index] = claim.outgoing_number
            except Conflict as exc:
                db.session.rollback()
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(i, cid)) for i, cid in enumerate(claim_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_sends_never_share_a_number(app, set_today):
    set_today("2014-06-12")
    numbering.set_last_used("14-28-9-1986")
    claim_ids = _approved_claims(8)
    numbers = _send_in_threads(app, claim_ids)
    assert sorted(numbers) == sorted(f"14-28-9-{n}" for n in range(1987, 1995))
    db.session.expire_all()
    assert numbering.last_used() == 1994


def test_one_claim_sent_twice_at_once_is_sent_once(app, set_today):
    set_today("2014-06-12")
    [claim_id] = _approved_claims(1)
    outcomes = _send_in_threads(app, [claim_id, claim_id, claim_id])
    sent = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert sent == ["14-28-9-1"] and len(refused) == 2
    db.session.expire_all()
    assert numbering.last_used() == 1  # the losers' numbers went back to the counter


def test_a_number_given_by_hand_is_registered_and_never_given_again(app, make_user, set_today):
    set_today("2014-06-12")
    first, second, third = _approved_claims(3)
    lawyer = make_user("legal")
    with pytest.raises(Invalid) as refused:
        sending.send_claim(
            lawyer,
            db.session.get(Claim, first),
            date(2014, 6, 12),
            "1987",
            acknowledge_kazakh_gaps=True,
        )
    assert "только администраторы" in refused.value.errors["outgoing_number"][0]
    db.session.rollback()
    sending.send_claim(
        SYSTEM_USER,
        db.session.get(Claim, first),
        date(2014, 6, 12),
        "14–28–9-1987",
        acknowledge_kazakh_gaps=True,
    )
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        sending.send_claim(
            SYSTEM_USER,
            db.session.get(Claim, second),
            date(2014, 6, 12),
            "14-28-9-1987",
            acknowledge_kazakh_gaps=True,
        )
    assert refused.value.errors["outgoing_number"] == ["Номер 14-28-9-1987 уже использован."]
    db.session.rollback()
    claim = sending.send_claim(
        lawyer, db.session.get(Claim, third), date(2014, 6, 12), acknowledge_kazakh_gaps=True
    )
    db.session.commit()
    assert claim.outgoing_number == "14-28-9-1988"
    row = db.session.scalar(sa.select(OutgoingSequence))
    assert (row.prefix, row.last_number) == ("14-28-9", 1988)


# --- the sequence restarting every 1 January (OUTGOING_NUMBER_RESTARTS_YEARLY) -----------------


def _claims_for(n: int, as_of: date) -> list[int]:
    contract = factories.contract()
    ids = []
    for _ in range(n):
        m = factories.milestone(contract, due_on=date(as_of.year - 1, 5, 4))
        claim = drafting.create_claim(
            SYSTEM_USER, contract, {"milestone_ids": [m.id], "as_of": as_of}
        )
        sending.approve_claim(SYSTEM_USER, claim)
        ids.append(claim.id)
    db.session.commit()
    return ids


def _send(claim_id: int, on: date, number: str | None = None) -> Claim:
    claim = sending.send_claim(SYSTEM_USER, db.session.get(Claim, claim_id), on, number)
    db.session.commit()
    return claim


def test_a_yearly_sequence_restarts_on_1_january_and_each_year_stays_gap_free(any_app):
    any_app.config["OUTGOING_NUMBER_RESTARTS_YEARLY"] = True
    any_app.config["FAKE_TODAY"] = date(2027, 1, 5)
    a, b, c, d, e = _claims_for(5, date(2026, 12, 29))
    # Two letters of 2026, then the first of 2027: it is No. 1 of 2027.
    assert _send(a, date(2026, 12, 30)).outgoing_number == "14-28-9-1"
    assert _send(b, date(2026, 12, 31)).outgoing_number == "14-28-9-2"
    first_of_2027 = _send(c, date(2027, 1, 5))
    assert (first_of_2027.outgoing_number, first_of_2027.outgoing_year) == ("14-28-9-1", 2027)
    # A letter dated 31.12.2026 but registered in January belongs to 2026: No. 3, no gap.
    late = _send(d, date(2026, 12, 31))
    assert (late.outgoing_number, late.outgoing_year) == ("14-28-9-3", 2026)
    # 14-28-9-2 of 2027 is free; 14-28-9-1 of 2027 is taken, whatever its year-mate in 2026.
    with pytest.raises(Conflict) as refused:
        _send(e, date(2027, 1, 5), "14–28–9-1")
    assert refused.value.errors["outgoing_number"] == ["Номер 14-28-9-1 уже использован."]
    db.session.rollback()
    assert numbering.last_used(year=2026) == 3
    assert numbering.last_used(year=2027) == 1
    assert numbering.last_used() == 1  # today (05.01.2027) counts in 2027's counter
    rows = db.session.execute(
        sa.select(OutgoingSequence.year, OutgoingSequence.last_number).order_by(
            OutgoingSequence.year
        )
    ).all()
    assert [tuple(r) for r in rows] == [(2026, 3), (2027, 1)]


def test_the_same_number_twice_in_one_year_is_refused_by_the_database(any_app):
    any_app.config["OUTGOING_NUMBER_RESTARTS_YEARLY"] = True
    any_app.config["FAKE_TODAY"] = date(2027, 3, 1)
    first, second = _claims_for(2, date(2027, 3, 1))
    _send(first, date(2027, 3, 1))
    # Bypassing the counter (as a bug would) cannot give a second letter No. 1 of 2027.
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.update(Claim)
            .where(Claim.id == second)
            .values(
                status="sent",
                outgoing_prefix="14-28-9",
                outgoing_seq=1,
                outgoing_year=2027,
                outgoing_number="14-28-9-1",
                sent_on=date(2027, 3, 1),
                response_due_on=date(2027, 3, 16),
            )
        )
    db.session.rollback()


def test_without_the_setting_the_sequence_runs_on_across_years(any_app):
    any_app.config["FAKE_TODAY"] = date(2027, 1, 5)
    a, b, c = _claims_for(3, date(2026, 12, 29))
    assert _send(a, date(2026, 12, 30)).outgoing_number == "14-28-9-1"
    assert _send(b, date(2027, 1, 5)).outgoing_number == "14-28-9-2"
    # A hand-given number already used in another year is refused: numbers are never reused.
    with pytest.raises(Conflict):
        _send(c, date(2027, 1, 5), "14-28-9-1")
    db.session.rollback()
    assert numbering.last_used() == 2


def test_switching_yearly_on_during_a_year_keeps_that_years_numbers_taken(any_app):
    any_app.config["FAKE_TODAY"] = date(2027, 6, 1)
    numbering.set_last_used("14-28-9-2462")  # the continuous register before the switch
    db.session.commit()
    a, b = _claims_for(2, date(2027, 6, 1))
    assert _send(a, date(2027, 6, 1)).outgoing_number == "14-28-9-2463"
    any_app.config["OUTGOING_NUMBER_RESTARTS_YEARLY"] = True
    # 2027's own counter starts after the numbers 2027 already used (2463), not at 1.
    assert _send(b, date(2027, 6, 1)).outgoing_number == "14-28-9-2464"
    assert numbering.last_used(year=2027) == 2464


def _send_in_threads_on(app, claim_ids: list[int], on: date) -> list:
    barrier = threading.Barrier(len(claim_ids))
    outcomes: list = [None] * len(claim_ids)

    def send(index: int, claim_id: int) -> None:
        with app.app_context():
            try:
                claim = db.session.get(Claim, claim_id)
                barrier.wait(timeout=30)
                sending.send_claim(SYSTEM_USER, claim, on)
                db.session.commit()
                outcomes[index] = (claim.outgoing_year, claim.outgoing_number)
            except Exception as exc:  # the test reports what went wrong
                db.session.rollback()
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(i, cid)) for i, cid in enumerate(claim_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_first_sends_of_a_new_year_share_no_number(app):
    """Eight threads, each with its own connection, send on 05.01.2027 at once: the first of
    them creates 2027's counter (the others wait on it or lose the insert race) and they get
    1…8 of 2027; 2026's counter stays at the 2 it had."""
    app.config["OUTGOING_NUMBER_RESTARTS_YEARLY"] = True
    app.config["FAKE_TODAY"] = date(2027, 1, 5)
    old = _claims_for(2, date(2026, 12, 29))
    for claim_id in old:
        _send(claim_id, date(2026, 12, 30))
    claim_ids = _claims_for(8, date(2027, 1, 5))
    outcomes = _send_in_threads_on(app, claim_ids, date(2027, 1, 5))
    assert [o for o in outcomes if not isinstance(o, tuple)] == []
    assert sorted(outcomes) == [(2027, f"14-28-9-{n}") for n in range(1, 9)]
    db.session.expire_all()
    assert numbering.last_used(year=2027) == 8
    assert numbering.last_used(year=2026) == 2


def test_the_numbering_page_and_cli_name_the_years_counter(any_app):
    """Through the admin page (real HTTP, CSRF) and `flask claims numbering`, on both databases:
    with the yearly sequence, the counter shown and moved is this year's."""
    import uuid

    from ppp_tracker.auth.services import create_user
    from tests.conftest import PASSWORD, login, post_form

    any_app.config["OUTGOING_NUMBER_RESTARTS_YEARLY"] = True
    any_app.config["FAKE_TODAY"] = date(2027, 1, 5)
    [last_year] = _claims_for(1, date(2026, 12, 29))
    _send(last_year, date(2026, 12, 30))  # No. 1 of 2026
    admin, _ = create_user(
        f"admin-{uuid.uuid4().hex[:6]}@example.kz",
        role="admin",
        region_code=None,
        password=PASSWORD,
    )
    db.session.commit()
    client = any_app.test_client()
    login(client, admin)
    page = client.get("/numbering").get_data(as_text=True)
    assert "Нумерация начинается заново каждое 1 января" in page
    assert "Ниже — счётчик 2027 года." in page
    r = post_form(client, "/numbering", {"last_number": "14–28–9-40"}, follow_redirects=True)
    assert "Следующее письмо получит № 14-28-9-41." in r.get_data(as_text=True)
    db.session.expire_all()
    assert numbering.last_used(year=2027) == 40
    assert numbering.last_used(year=2026) == 1  # last year's counter is left alone
    result = any_app.test_cli_runner().invoke(args=["claims", "numbering"])
    assert result.output.strip() == (
        "14-28-9: last used 14-28-9-40 (restarts every 1 January; counter of 2027)"
    )
    any_app.config["OUTGOING_NUMBER_RESTARTS_YEARLY"] = False
    result = any_app.test_cli_runner().invoke(args=["claims", "numbering"])
    assert result.output.strip() == "14-28-9: last used 14-28-9-0"  # the continuous one, unused
