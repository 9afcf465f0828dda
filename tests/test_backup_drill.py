"""The backup drill: make data (a sent letter with its stored files, alerts, audit events), back
up with `flask backup create`, drop the database, restore with `flask backup restore` into a
fresh one, and compare: the rows of every table, every letter file's bytes, the audit chain.
On PostgreSQL (pg_dump / pg_restore) and on the embedded SQLite default (online backup API)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ppp_tracker import create_app
from ppp_tracker.alerts.models import Alert
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import composing, drafting, sending
from ppp_tracker.claims.models import Claim, ClaimFile
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.audit_chain import AuditLink, verify
from ppp_tracker.db import db
from ppp_tracker.extensions import upgrade
from tests import alerting, factories
from tests.conftest import PG_HOST, _create_pg_database, _drop_pg_database, base_config

pytestmark = pytest.mark.slow


class Database:
    """A database of the drill's own, made and dropped here (never the session's)."""

    def __init__(self, kind: str, tmp_path, name: str):
        self.kind = kind
        if kind == "postgresql":
            self.pg_name = _create_pg_database()
            self.url = f"{PG_HOST}/{self.pg_name}"
        else:
            self.path = tmp_path / f"{name}.db"
            self.url = f"sqlite:///{self.path}"
        self.app = create_app(base_config(self.url, tmp_path))

    def drop(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        if self.kind == "postgresql":
            _drop_pg_database(self.pg_name)
        else:
            self.path.unlink()


def _make_data() -> None:
    """A sent claim with its four stored letter files, an overdue milestone's alerts."""
    world = alerting.karaganda(due_on=date(2014, 5, 1))
    world.contract.total_amount = Decimal("77000000.00")
    db.session.commit()
    claim = drafting.create_claim(
        SYSTEM_USER,
        world.contract,
        {"milestone_ids": [world.milestone.id], "as_of": date(2014, 6, 12)},
    )
    sending.approve_claim(SYSTEM_USER, claim)
    sending.send_claim(
        SYSTEM_USER, claim, date(2014, 6, 12), "14-28-9-1987", acknowledge_kazakh_gaps=True
    )
    db.session.commit()
    composing.store_letter_files(claim)
    db.session.commit()
    alerting.scan(date(2014, 5, 6))


def _state() -> dict:
    """What must come back: rows per table, every letter file's hash, the audit chain."""
    db.session.remove()
    connection = db.session.connection()
    tables = {
        t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar()
        for t in db.metadata.sorted_tables
    }
    files = {
        (f.claim_id, f.language, f.format): hashlib.sha256(f.content).hexdigest()
        for f in db.session.scalars(sa.select(ClaimFile))
    }
    verdict = verify(connection)
    db.session.remove()
    return {"tables": tables, "files": files, "chain": (verdict.ok, verdict.links, verdict.head)}


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_a_backup_restores_into_a_fresh_database_with_everything(kind, tmp_path):
    source = Database(kind, tmp_path, "source")
    backup_dir = tmp_path / "backup"
    with source.app.app_context():
        upgrade()
        source.app.config["FAKE_TODAY"] = date(2014, 6, 12)
        _make_data()
        before = _state()
        result = source.app.test_cli_runner().invoke(args=["backup", "create", str(backup_dir)])
        assert result.exit_code == 0, result.output
    # the data the drill is about is there
    assert before["tables"][Claim.__tablename__] == 1
    assert len(before["files"]) == 4  # DOCX and PDF, Russian and Kazakh
    assert before["tables"][Alert.__tablename__] >= 1
    assert before["tables"][AuditEvent.__tablename__] == before["tables"][AuditLink.__tablename__]
    assert before["chain"][0] and before["chain"][1] > 10
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["audit_head"]["hash"] == before["chain"][2]
    source.drop()

    fresh = Database(kind, tmp_path, "fresh")
    try:
        runner = fresh.app.test_cli_runner()
        result = runner.invoke(args=["backup", "restore", str(backup_dir)])
        assert result.exit_code == 0, result.output
        assert f"audit chain OK ({before['chain'][1]} links)" in result.output
        with fresh.app.app_context():
            after = _state()
        assert after == before
        # restoring again over it is refused unless asked for
        again = runner.invoke(args=["backup", "restore", str(backup_dir)])
        assert again.exit_code != 0 and "not empty" in again.output
        # and the restored app goes on: a new audited change extends the chain
        with fresh.app.app_context():
            factories.party(name="ТОО «После восстановления»")
            assert verify(db.session.connection()).links == before["chain"][1] + 1
            db.session.remove()
    finally:
        fresh.drop()


def test_a_damaged_backup_is_refused_before_anything_is_restored(tmp_path, app):
    backup_dir = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(backup_dir)])
    assert result.exit_code == 0, result.output
    dump = backup_dir / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    fresh = Database("postgresql", tmp_path, "fresh")
    try:
        result = fresh.app.test_cli_runner().invoke(args=["backup", "restore", str(backup_dir)])
        assert result.exit_code != 0 and "SHA-256" in result.output
        with fresh.app.app_context():
            assert sa.inspect(db.engine).get_table_names() == []
    finally:
        fresh.drop()
