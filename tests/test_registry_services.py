"""The registry's rules, on PostgreSQL and on the embedded SQLite default."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.core.audit import Actor, AuditEvent, acting_as
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.identifiers import bin_problem, is_valid_bin, make_bin
from ppp_tracker.registry.models import Contract, DueDateChange, Milestone
from ppp_tracker.registry.services.contracts import save_contract
from ppp_tracker.registry.services.documents import add_document
from ppp_tracker.registry.services.milestones import mark_met, save_milestone
from tests import factories


def test_bin_control_digit():
    assert make_bin("13064000047") is not None
    valid = make_bin("13064000047")
    assert is_valid_bin(valid)
    wrong = valid[:11] + str((int(valid[11]) + 1) % 10)
    assert bin_problem(wrong) == "the control digit does not match"
    assert bin_problem("12345") == "must be exactly 12 digits"
    assert bin_problem("12345678901a") == "must be exactly 12 digits"


def test_money_keeps_every_tiyn_on_both_databases(any_app):
    big = Decimal("123456789012.34")
    c = factories.contract(total_amount=big)
    db.session.expire_all()
    again = db.session.get(Contract, c.id)
    assert again.total_amount == big
    assert isinstance(again.total_amount, Decimal)
    raw = db.session.execute(
        sa.text("SELECT total_amount FROM contracts WHERE id = :i"), {"i": c.id}
    )
    assert raw.scalar() == 12345678901234  # whole tiyn in the database


def test_penalty_rate_is_exact(any_app):
    c = factories.contract(
        penalty={
            "rate_percent_per_day": Decimal("0.05"),
            "base": "outstanding",
            "cap_percent": Decimal("10"),
        }
    )
    db.session.expire_all()
    again = db.session.get(Contract, c.id)
    assert again.penalty_rate_percent == Decimal("0.05")
    assert again.penalty_cap_percent == Decimal("10")
    assert str(again.penalty_base) == "outstanding"


def test_a_contract_belongs_to_a_project_or_a_site_not_both(any_app):
    p = factories.project()
    s = factories.site()
    with pytest.raises(Invalid) as exc:
        factories.contract(project_id=p.id, site_id=s.id)
    assert "project_id" in exc.value.errors
    db.session.rollback()
    with pytest.raises(Invalid):
        factories.contract(project_id=None, site_id=None)


def test_the_contract_region_follows_its_site(any_app):
    s = factories.site(region="KZ-63")
    c = factories.contract(site_id=s.id)
    assert c.region_code == "KZ-63"


def test_every_error_is_collected_and_nothing_is_saved(any_app):
    before = db.session.scalar(sa.select(sa.func.count(Contract.id)))
    with pytest.raises(Invalid) as exc:
        save_contract(
            SYSTEM_USER,
            {
                "number": "",
                "signed_on": date(2150, 1, 1),
                "customer_id": 999999,
                "contractor_id": None,
                "project_id": 123456,
                "subject": "x",
                "total_amount": Decimal("-1.00"),
                "penalty": {
                    "rate_percent_per_day": Decimal("0.12345"),
                    "base": "nonsense",
                    "cap_percent": Decimal("0"),
                },
            },
        )
    db.session.rollback()
    errors = exc.value.errors
    for field in (
        "number",
        "signed_on",
        "customer_id",
        "contractor_id",
        "project_id",
        "total_amount",
        "penalty.rate_percent_per_day",
        "penalty.base",
        "penalty.cap_percent",
    ):
        assert field in errors, field
    assert db.session.scalar(sa.select(sa.func.count(Contract.id))) == before


def test_bin_is_checked_and_unique(any_app):
    good = factories.valid_bin(7)
    factories.party(bin=good)
    with pytest.raises(Invalid) as exc:
        factories.party(bin=good)
    assert "bin" in exc.value.errors
    db.session.rollback()
    with pytest.raises(Invalid) as wrong_digit:
        factories.party(bin=good[:11] + str((int(good[11]) + 1) % 10))
    db.session.rollback()
    with pytest.raises(Invalid) as too_short:
        factories.party(bin="12345")
    # Two different reasons, each named on the field.
    assert wrong_digit.value.errors["bin"] != too_short.value.errors["bin"]


def test_installments_may_not_exceed_the_total(any_app):
    with pytest.raises(Invalid) as exc:
        factories.contract(
            total_amount=Decimal("100.00"),
            installments=[
                {"due_on": date(2013, 12, 1), "amount": Decimal("60.00")},
                {"due_on": date(2014, 12, 1), "amount": Decimal("50.00")},
            ],
        )
    assert "installments" in exc.value.errors


def test_the_article_installments(any_app):
    c = factories.contract(
        installments=[
            {"due_on": date(2013, 12, 31), "amount": Decimal("23100000.00"), "description": "30 %"},
            {"due_on": date(2014, 12, 31), "amount": Decimal("53900000.00"), "description": "70 %"},
        ]
    )
    assert [i.amount for i in c.installments] == [Decimal("23100000.00"), Decimal("53900000.00")]
    assert sum(i.amount for i in c.installments) == c.total_amount


def test_a_due_date_change_needs_a_reason_and_keeps_the_old_date(any_app):
    c = factories.contract()
    m = factories.milestone(c, due_on=date(2014, 5, 1))
    with pytest.raises(Invalid) as exc:
        save_milestone(SYSTEM_USER, c, {"due_on": date(2014, 6, 1)}, m)
    assert "reason" in exc.value.errors
    db.session.rollback()
    save_milestone(
        SYSTEM_USER, c, {"due_on": date(2014, 6, 1), "reason": "Дополнительное соглашение № 1"}, m
    )
    db.session.commit()
    changes = db.session.scalars(
        sa.select(DueDateChange).where(DueDateChange.milestone_id == m.id)
    ).all()
    assert [(ch.old_due_on, ch.new_due_on, ch.reason) for ch in changes] == [
        (date(2014, 5, 1), date(2014, 6, 1), "Дополнительное соглашение № 1")
    ]


def test_a_relative_due_date_appears_when_its_anchor_is_met(app, set_today):
    set_today("2014-08-01")
    c = factories.contract()
    teo = factories.milestone(c, due_on=date(2014, 5, 1))
    expertise = factories.milestone(
        c, due_on=None, relative={"milestone_id": teo.id, "amount": 10, "unit": "working_days"}
    )
    assert expertise.due_on is None
    mark_met(SYSTEM_USER, teo, date(2014, 6, 30))
    db.session.commit()
    db.session.refresh(expertise)
    # 10 working days after 30.06.2014, skipping Monday 7 July (Capital Day observed).
    assert expertise.due_on == date(2014, 7, 15)
    assert expertise.due_date_changes[-1].new_due_on == date(2014, 7, 15)


def test_relative_dates_may_not_form_a_circle(app):
    c = factories.contract()
    a = factories.milestone(c)
    b = factories.milestone(
        c, due_on=None, relative={"milestone_id": a.id, "amount": 5, "unit": "calendar_days"}
    )
    with pytest.raises(Invalid) as exc:
        save_milestone(
            SYSTEM_USER, c, {"relative": {"milestone_id": b.id, "amount": 1, "unit": "months"}}, a
        )
    assert "relative.milestone_id" in exc.value.errors


def test_a_milestone_cannot_be_met_in_the_future(app, set_today):
    set_today("2014-06-01")
    c = factories.contract()
    m = factories.milestone(c)
    with pytest.raises(Invalid) as exc:
        mark_met(SYSTEM_USER, m, date(2014, 6, 2))
    assert "met_on" in exc.value.errors


def test_waiving_needs_a_reason(app):
    c = factories.contract()
    m = factories.milestone(c)
    with pytest.raises(Invalid) as exc:
        save_milestone(SYSTEM_USER, c, {"status": "waived"}, m)
    assert "status_note" in exc.value.errors


def test_every_change_is_in_the_audit_log_with_who_and_old_and_new(any_app):
    c = factories.contract(total_amount=Decimal("100.00"))
    with acting_as(Actor("officer@example.kz", 42)):
        save_contract(SYSTEM_USER, {"total_amount": Decimal("150.50")}, c)
        db.session.commit()
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "contracts", AuditEvent.entity_id == str(c.id))
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["create", "update"]
    update = events[1]
    assert update.actor == "officer@example.kz" and update.actor_id == 42
    assert update.changes["total_amount"] == ["100.00", "150.50"]
    assert update.region_code == "KZ-35"


def test_deleting_leaves_a_trace(any_app):
    c = factories.contract()
    m = factories.milestone(c, title="Удаляемое обязательство")
    mid = m.id
    db.session.delete(m)
    db.session.commit()
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "milestones", AuditEvent.action == "delete"
        )
    )
    assert event.entity_id == str(mid)
    assert event.changes["title"][0] == "Удаляемое обязательство"
    assert db.session.get(Milestone, mid) is None


def test_documents_are_typed_and_size_limited(app):
    c = factories.contract()
    doc = add_document(
        SYSTEM_USER,
        owner=c,
        document_type="contractSigned",
        title=None,
        filename="dogovor.pdf",
        content=b"%PDF-1.4 test",
    )
    assert doc.size == 13 and doc.region_code == "KZ-35" and doc.title == "dogovor.pdf"
    for filename, content, field in (
        ("virus.exe", b"MZ", "file"),
        ("fake.pdf", b"not a pdf", "file"),
        ("empty.pdf", b"", "file"),
    ):
        with pytest.raises(Invalid) as exc:
            add_document(
                SYSTEM_USER,
                owner=c,
                document_type="other",
                title=None,
                filename=filename,
                content=content,
            )
        assert field in exc.value.errors, filename
    app.config["DOCUMENT_MAX_BYTES"] = 10
    with pytest.raises(Invalid) as exc:
        add_document(
            SYSTEM_USER,
            owner=c,
            document_type="other",
            title=None,
            filename="big.txt",
            content=b"x" * 11,
        )
    assert exc.value.errors["file"]
    with pytest.raises(Invalid) as exc:
        add_document(
            SYSTEM_USER, owner=c, document_type="bogus", title=None, filename="a.txt", content=b"a"
        )
    assert "document_type" in exc.value.errors
