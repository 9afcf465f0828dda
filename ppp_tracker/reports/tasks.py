"""Celery tasks of the reports feature: checking and importing uploaded spreadsheets.

Thin: lease the batch atomically (a second delivery finds nothing to do), let the import service
go through the rows, commit once. Progress is written on a connection of its own so that the
page polling it sees the count grow while the import's own transaction is still open.
"""

from __future__ import annotations

import time
from datetime import date

import sqlalchemy as sa
from celery import shared_task

from ppp_tracker import clock
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db
from ppp_tracker.reports import imports, snapshots
from ppp_tracker.reports.models import ImportBatch, ImportStatus

#: Write progress at most this often (seconds); the page polls once a second.
PROGRESS_EVERY = 0.5


def _progress_writer(batch_id: int, total: int):
    engine = db.engine
    if engine.dialect.name == "sqlite":
        # SQLite has one writer at a time and the import's transaction is it: the bar shows
        # "working" without a count on the embedded default, and the count on PostgreSQL.
        return None
    last = [0.0]
    table = ImportBatch.__table__

    def write(done: int) -> None:
        now = time.monotonic()
        if done != total and now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        with engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.id == batch_id)
                .values(processed_rows=done, heartbeat_at=clock.now())
            )

    return write


def _run(batch_id: int, wanted: ImportStatus, working: ImportStatus, *, commit: bool) -> str:
    if not imports.lease(batch_id, wanted, working):
        db.session.rollback()
        return "not leased"
    db.session.commit()
    batch = db.session.get(ImportBatch, batch_id)
    user = batch.user
    actor = Actor(f"worker:import#{batch.id} ({user.email if user else '?'})", batch.user_id)
    with acting_as(actor):
        try:
            outcome = imports.process(batch, _progress_writer(batch.id, batch.total_rows))
        except Exception:
            # Not the file's fault (it was read at upload): keep the batch from hanging in
            # "checking" forever, say so on its page, and let the worker log the error.
            db.session.rollback()
            batch = db.session.get(ImportBatch, batch_id)
            outcome = imports.Outcome()
            outcome.add(0, None, imports.unexpected_error_message())
            imports.finish(batch, outcome, committed=False)
            db.session.commit()
            raise
        if commit and not outcome.errors:
            imports.finish(batch, outcome, committed=True)
            db.session.commit()
            return "imported"
        # A check, or an import that found errors: nothing of the rows is kept.
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch_id)
        imports.finish(batch, outcome, committed=False)
        db.session.commit()
    return "checked" if not commit else "failed"


@shared_task(name="reports.check_import")
def check_import(batch_id: int) -> str:
    """Go through an uploaded file's rows and record every problem; save nothing."""
    return _run(batch_id, ImportStatus.QUEUED, ImportStatus.VALIDATING, commit=False)


@shared_task(name="reports.commit_import")
def commit_import(batch_id: int) -> str:
    """Import a checked file: every row in one transaction, or none if a problem appears."""
    return _run(batch_id, ImportStatus.COMMIT_QUEUED, ImportStatus.COMMITTING, commit=True)


@shared_task(name="reports.refresh_dashboard", ignore_result=True)
def refresh_dashboard(as_of: str | None = None) -> int:
    """Store the dashboard's figures of every scope (queued after each deadline scan).

    Safe to run twice: each scope's row is replaced, never by figures older than its own.
    """

    with acting_as(Actor("worker:reports.refresh_dashboard")):
        count = snapshots.refresh(date.fromisoformat(as_of) if as_of else None)
        db.session.commit()
    return count
