"""The audit log: every model people or workers change is audited (or exempt for a stated
reason), collections are recorded, and nobody can change the log — not the ORM, not raw SQL."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import cases
from ppp_tracker.claims.models import Case, Claim
from ppp_tracker.core.audit import Actor, Audited, AuditEvent, AuditLogIsReadOnly, acting_as
from ppp_tracker.db import db
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.services.parties import save_party
from ppp_tracker.reports import imports
from ppp_tracker.reports.models import ImportBatch, ImportStatus
from tests import factories
from tests.claims_world import claims_world
from tests.conftest import _fresh
from tests.reports_support import csv_bytes

#: Mapped models that are deliberately not audited, and why. Anything else must be `Audited`.
EXEMPT = {
    "AuditEvent": "the audit log itself (append-only, see below)",
    "AuditLink": "the log's hash chain, a link per event (append-only; tests/test_audit_chain.py)",
    "AuditChainHead": "the last link of the audit chain, moved with each link",
    "Region": "reference data inserted by the migrations; no route or task changes it",
    "LoginThrottle": "throttling counters of failed logins, given back on success",
    "OutboxMessage": "copies of e-mails kept when no SMTP server is configured",
    "ScanRun": "the scan's own run record (start, end, counts)",
    "Alert": "derived by the scan from milestones, which are audited",
    "AlertPlan": "derived scheduling state, recomputed from the audited milestone and rules",
    "AlertDelivery": "delivery bookkeeping (attempts, status) of an alert e-mail",
    "AlertDigest": "delivery bookkeeping of the daily digest e-mail",
    "ClaimNotice": "delivery bookkeeping of the e-mail about a drafted claim",
    "ClaimVersion": "itself the version history of the audited Claim, written in the same flush",
    "DashboardSnapshot": "a cache of the dashboard's figures, recomputed after each scan",
    "DashboardChart": "the dashboard charts drawn with each snapshot (derived data, redrawn)",
    "DashboardGeneration": "counters moved by audited changes (derived; marks snapshots stale)",
    "DataVersion": "a counter moved by every audited commit (core.versions), itself no record",
}


def _mapped_models():
    return {mapper.class_.__name__: mapper.class_ for mapper in db.Model.registry.mappers}


def test_every_model_is_audited_or_exempt_for_a_reason(app):
    models = _mapped_models()
    unaudited = {name for name, cls in models.items() if not issubclass(cls, Audited)}
    assert unaudited - set(EXEMPT) == set(), "audit these models or justify them in EXEMPT"
    # The list stays honest: no entry for a model that is gone or is audited after all.
    assert set(EXEMPT) - unaudited == set()
    assert {"ImportBatch", "CaseHearing", "DueDateChange", "ClaimMilestone"} <= (
        set(models) - unaudited
    )


def _events(entity_type: str, entity_id=None) -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == str(entity_id))
    return db.session.scalars(stmt.order_by(AuditEvent.id)).all()


def test_hearings_imports_and_due_date_history_are_audited_with_who_and_when(app, make_user):
    officer = make_user("officer", "KZ-35")
    contract = factories.contract("KZ-35")
    world = claims_world(contract)
    case = db.session.get(Case, world["case_id"])
    with acting_as(Actor(officer.email, officer.id)):
        hearing = cases.add_hearing(officer, case, {"hearing_on": date(2014, 9, 1)})
        milestone = factories.milestone(contract, due_on=date(2030, 1, 10))
        save_milestone(
            officer, contract, {"due_on": date(2030, 2, 10), "reason": "доп. соглашение"}, milestone
        )
        batch = imports.create_batch(
            officer, "parties", "p.csv", csv_bytes([["name", "kind"], ["ТОО «Альфа»", "tenant"]])
        )
        db.session.commit()
        # A worker's heartbeat alone is no event; its outcome is.
        batch.heartbeat_at = batch.created_at
        batch.processed_rows = 1
        db.session.commit()
        batch.created_count = 1
        db.session.commit()

    [made] = _events("case_hearings", hearing.id)
    assert (made.action, made.actor, made.actor_id) == ("create", officer.email, officer.id)
    assert made.region_code == "KZ-35" and made.at is not None
    assert made.changes["milestone_id"] == [None, hearing.milestone_id]

    [change] = _events("due_date_changes")
    assert change.actor == officer.email and change.region_code == "KZ-35"
    assert change.changes["old_due_on"] == [None, "2030-01-10"]
    assert change.changes["new_due_on"] == [None, "2030-02-10"]
    assert change.changes["reason"] == [None, "доп. соглашение"]

    created, updated = _events("import_batches", batch.id)
    assert created.action == "create" and created.actor == officer.email
    assert created.changes["filename"] == [None, "p.csv"]
    assert "content" not in created.changes  # the file's bytes are not copied into the log
    assert updated.action == "update" and updated.changes == {"created_count": [0, 1]}

    # The user's request to import the checked file (a conditional UPDATE) is recorded too.
    batch.status = ImportStatus.CHECKED
    db.session.commit()
    with acting_as(Actor(officer.email, officer.id)):
        imports.request_commit(db.session.get(ImportBatch, batch.id))
        db.session.commit()
    asked = _events("import_batches", batch.id)[-1]
    assert asked.actor == officer.email
    assert asked.changes == {"status": ["checked", "commit_queued"]}

    lines = _events("claim_milestones")
    assert lines and all(e.action == "create" and e.region_code == "KZ-35" for e in lines)


def test_a_many_to_many_change_is_recorded_with_the_member_ids(app, make_user):
    officer = make_user("legal", "KZ-35")
    contract = factories.contract("KZ-35")
    world = claims_world(contract)
    case = db.session.get(Case, world["case_id"])
    claim = db.session.get(Claim, world["claim_id"])
    with acting_as(Actor(officer.email, officer.id)):
        case.claims.append(claim)
        db.session.commit()
        case.claims.remove(claim)
        db.session.commit()
    added, removed = [e for e in _events("cases", case.id) if e.action == "update"]
    assert added.changes == {"claims": [[], [str(claim.id)]]} and added.actor == officer.email
    assert removed.changes == {"claims": [[str(claim.id)], []]}


def test_the_orm_refuses_to_change_or_delete_audit_rows(app):
    factories.party(name="ТОО «Бета»")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    event = db.session.scalars(sa.select(AuditEvent)).first()
    event.actor = "someone else"
    with pytest.raises(AuditLogIsReadOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(sa.select(AuditEvent)).first())
    with pytest.raises(AuditLogIsReadOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(AuditLogIsReadOnly):
        db.session.execute(sa.update(AuditEvent).values(actor="x"))
    with pytest.raises(AuditLogIsReadOnly):
        db.session.execute(sa.delete(AuditEvent))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.actor == "x")) == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'forged'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_postgresql_refuses_raw_sql_that_changes_the_log(app, statement):
    save_party(SYSTEM_USER, {"name": "ТОО «Гамма»", "kind": "contractor"})
    db.session.commit()
    with db.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar()
        assert before >= 1
        with pytest.raises(sa.exc.DBAPIError) as refused:
            conn.execute(sa.text(statement))
        assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
        assert "append-only" in str(refused.value.orig)
        conn.rollback()
        assert conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == before
        forged = "SELECT count(*) FROM audit_events WHERE actor = 'forged'"
        assert conn.execute(sa.text(forged)).scalar() == 0


@pytest.fixture
def sqlite_only(sqlite_app):
    yield from _fresh(sqlite_app)


def test_sqlite_refuses_raw_updates_of_the_log(sqlite_only):
    save_party(SYSTEM_USER, {"name": "ТОО «Дельта»", "kind": "contractor"})
    db.session.commit()
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text("UPDATE audit_events SET actor = 'forged'"))
        conn.rollback()
        forged = "SELECT count(*) FROM audit_events WHERE actor = 'forged'"
        assert conn.execute(sa.text(forged)).scalar() == 0
