"""The audit log is a hash chain: every committed event is a link; changing, removing or slipping
in an event — in the database itself, past the app and its triggers — breaks the chain, and
`flask audit verify` names the first broken link. Concurrent commits keep it linear; the
migration chains the events written before it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.services import create_user
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.audit_chain import GENESIS, AuditChainHead, AuditLink, link_hash, verify
from ppp_tracker.db import db
from ppp_tracker.extensions import downgrade, upgrade
from ppp_tracker.registry.services.parties import save_party
from tests import factories

#: The revision the chain's migration (trust_ops_01) follows.
CHAIN_MIGRATION_PARENT = "claims_dates_02"


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def _some_history() -> None:
    """Three commits of audited changes through the services."""
    party = factories.party(name="ТОО «Альфа»")
    db.session.commit()
    factories.contract("KZ-35", contractor_id=party.id)
    db.session.commit()
    save_party(
        SYSTEM_USER, {"name": "ТОО «Альфа-2»", "kind": "contractor", "bin": party.bin}, party
    )
    db.session.commit()


def test_every_commit_chains_its_events_in_order(any_app):
    _some_history()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    links = db.session.scalars(sa.select(AuditLink).order_by(AuditLink.seq)).all()
    assert len(events) > 3 and len(links) == len(events)
    # links 1..n, each naming the hash before it and holding its event's hash
    prev = GENESIS
    for n, (link, event) in enumerate(zip(links, events, strict=True), 1):
        assert (link.seq, link.event_id, link.prev_hash) == (n, event.id, prev)
        assert link.hash == link_hash(prev, n, event)
        prev = link.hash
    head = db.session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (len(links), prev)
    code, output = _verify(any_app)
    assert code == 0 and f"OK: {len(events)} events, head {prev}" in output


def _new_party(name: str, n: int):
    return save_party(
        SYSTEM_USER, {"name": name, "kind": "contractor", "bin": factories.valid_bin(900 + n)}
    )


def test_a_rolled_back_savepoint_or_transaction_leaves_no_link(any_app):
    _new_party("ТОО «Остаётся»", 1)
    savepoint = db.session.begin_nested()
    _new_party("ТОО «Отменено»", 2)
    savepoint.rollback()
    db.session.commit()
    _new_party("ТОО «Откат»", 3)
    db.session.rollback()
    assert _count(AuditEvent) == _count(AuditLink) == 1
    assert verify(db.session.connection()).ok


def _as_owner(sql: str, **params) -> None:
    """What only the tables' owner can do: lift the append-only triggers for one statement."""
    with db.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(sa.text("ALTER TABLE audit_links DISABLE TRIGGER USER"))
        conn.execute(sa.text(sql), params)
        conn.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        conn.execute(sa.text("ALTER TABLE audit_links ENABLE TRIGGER USER"))


def test_an_event_edited_in_the_database_is_caught_at_its_link(app):
    _some_history()
    code, _output = _verify(app)
    assert code == 0
    # The links are append-only too.
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_links SET hash = hash WHERE seq = 1"))
    second = db.session.scalar(sa.select(AuditLink).where(AuditLink.seq == 2))
    _as_owner("UPDATE audit_events SET actor = 'someone-else' WHERE id = :id", id=second.event_id)
    code, output = _verify(app)
    assert code == 1
    assert f"BROKEN at link 2 (audit event {second.event_id})" in output
    assert "is not what was written" in output and "1 links before it hold" in output


def test_a_removed_last_event_or_an_event_slipped_in_is_caught(app):
    _some_history()
    last = db.session.scalar(sa.select(AuditLink).order_by(AuditLink.seq.desc()).limit(1))
    total = last.seq
    # remove the tail — the event and its link: the head still names it
    _as_owner("DELETE FROM audit_links WHERE seq = :seq", seq=last.seq)
    _as_owner("DELETE FROM audit_events WHERE id = :id", id=last.event_id)
    code, output = _verify(app)
    assert (
        code == 1 and f"the head names link {total}, the chain ends at link {total - 1}" in output
    )


def test_an_event_written_around_the_app_is_in_no_link(app):
    _some_history()
    with db.engine.begin() as conn:  # an INSERT needs no owner: the triggers allow it
        conn.execute(
            sa.text(
                "INSERT INTO audit_events (at, actor, action, entity_type, entity_id, changes)"
                " VALUES (now(), 'forger', 'update', 'parties', '1', '{}')"
            )
        )
    code, output = _verify(app)
    assert code == 1 and "1 event(s) are in no link" in output


def test_concurrent_commits_keep_the_chain_linear(app):
    """Eight writers committing at once on PostgreSQL: one chain, no gap, no fork."""
    writers, commits = 8, 5
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(commits):
                    factories.party(name=f"ТОО «Поток {n}-{i}»")
                    db.session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    db.session.remove()
    assert _count(AuditEvent) == writers * commits
    seqs = db.session.scalars(sa.select(AuditLink.seq).order_by(AuditLink.seq)).all()
    assert seqs == list(range(1, writers * commits + 1))
    assert verify(db.session.connection()).ok


@pytest.mark.slow
def test_the_migration_chains_the_events_written_before_it(app):
    _some_history()
    create_user("chain@example.kz", role="viewer", region_code="KZ-35", password="x" * 12)
    db.session.commit()
    events = _count(AuditEvent)
    db.session.remove()
    # back to just before the chain's migration (and any after it): its tables are gone, the
    # events stay; then up to the head again, whatever happens here
    try:
        downgrade(revision=CHAIN_MIGRATION_PARENT)
        with db.engine.connect() as conn:
            assert "audit_links" not in sa.inspect(conn).get_table_names()
            assert conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar() == events
    finally:
        upgrade()
    assert _count(AuditLink) == events
    code, output = _verify(app)
    assert code == 0 and f"OK: {events} events" in output
    # and the chain goes on from there
    factories.party(name="После миграции")
    db.session.commit()
    assert _count(AuditLink) == events + 1 and verify(db.session.connection()).ok
