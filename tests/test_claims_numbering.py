"""Outgoing numbers: unique, never reused, correct under concurrent sends (threads with their own
sessions on PostgreSQL), typed with Word's en-dashes, moved only forward."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import numbering, services
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
        claim = services.create_claim(
            SYSTEM_USER, contract, {"milestone_ids": [m.id], "as_of": date(2014, 6, 12)}
        )
        services.approve_claim(SYSTEM_USER, claim)
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
                services.send_claim(SYSTEM_USER, claim, date(2014, 6, 12))
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
        services.send_claim(lawyer, db.session.get(Claim, first), date(2014, 6, 12), "1987")
    assert "только администраторы" in refused.value.errors["outgoing_number"][0]
    db.session.rollback()
    services.send_claim(
        SYSTEM_USER, db.session.get(Claim, first), date(2014, 6, 12), "14–28–9-1987"
    )
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        services.send_claim(
            SYSTEM_USER, db.session.get(Claim, second), date(2014, 6, 12), "14-28-9-1987"
        )
    assert refused.value.errors["outgoing_number"] == ["Номер 14-28-9-1987 уже использован."]
    db.session.rollback()
    claim = services.send_claim(lawyer, db.session.get(Claim, third), date(2014, 6, 12))
    db.session.commit()
    assert claim.outgoing_number == "14-28-9-1988"
    row = db.session.scalar(sa.select(OutgoingSequence))
    assert (row.prefix, row.last_number) == ("14-28-9", 1988)
