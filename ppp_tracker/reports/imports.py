"""Import of counterparties, production sites and contracts with milestones from XLSX and CSV.

A file is checked when it is uploaded (is it a spreadsheet, in UTF-8, with known columns, not too
large), then a worker goes through every row with the registry's own services — so the rules are
those of the forms and the API — and records each bad row with its number and reason. Only a file
without a single bad row can be imported, and it is imported in one transaction: all rows or none.

This module holds the batches (upload, lease, outcome); reading a file is `import_files`, going
through its rows `import_rows`. The names the views, tasks and tests use are importable here.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import in_scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.core.validation import safe_filename
from ppp_tracker.db import db
from ppp_tracker.reports.import_files import (
    COLUMNS,
    PREVIEW_ROWS,
    FileRefused,
    ReadFile,
    read_file,
)
from ppp_tracker.reports.import_files import OLE_MAGIC as OLE_MAGIC
from ppp_tracker.reports.import_files import column_label as column_label
from ppp_tracker.reports.import_rows import Outcome
from ppp_tracker.reports.import_rows import process as process
from ppp_tracker.reports.models import ImportBatch, ImportKind, ImportStatus

#: A worker that has shown no sign of life for this long has died; its batch may be taken over.
STALE_AFTER_SECONDS = 15 * 60


# --- batches -----------------------------------------------------------------------------------


def create_batch(user: User, kind: str, filename: str, content: bytes) -> ImportBatch:
    """Store an uploaded file for checking, after refusing what cannot be imported at all."""
    try:
        import_kind = ImportKind(kind)
    except ValueError:
        raise Invalid.one("kind", _("Choose what the file contains.")) from None
    filename = safe_filename(filename)
    if not filename:
        raise Invalid.one("file", _("Choose a file."))
    try:
        read = read_file(import_kind, filename, content)
    except FileRefused as exc:
        raise Invalid.one("file", exc.message) from None
    batch = ImportBatch(
        kind=import_kind,
        status=ImportStatus.QUEUED,
        user_id=user.id,
        region_code=user.region_code,
        filename=filename,
        file_format=read.file_format,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        total_rows=len(read.rows),
        processed_rows=0,
        errors=[],
        preview=_preview(import_kind, read),
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def _preview(kind: ImportKind, read: ReadFile) -> dict:
    keys = [c.key for c in COLUMNS[kind] if c.key in read.mapping.values()]
    return {
        "columns": keys,
        "rows": [
            [number, *[values.get(k, "") for k in keys]]
            for number, values in read.rows[:PREVIEW_ROWS]
        ],
    }


def lease(batch_id: int, wanted: ImportStatus, working: ImportStatus) -> bool:
    """Lease the batch to a worker: exactly one row changes from `wanted` to `working` (or a
    `working` whose worker died — no heartbeat for STALE_AFTER_SECONDS — is taken over). False:
    someone else has it, or it is done."""
    now = clock.now()
    stale_at = now - timedelta(seconds=STALE_AFTER_SECONDS)
    result = db.session.execute(
        sa.update(ImportBatch)
        .where(
            ImportBatch.id == batch_id,
            sa.or_(
                ImportBatch.status == wanted,
                sa.and_(ImportBatch.status == working, ImportBatch.heartbeat_at < stale_at),
            ),
        )
        .values(status=working, heartbeat_at=now, processed_rows=0)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def request_commit(batch: ImportBatch) -> bool:
    """Ask for the import of a checked, faultless batch. The conditional UPDATE is the guard:
    two clicks (or two tabs) cannot queue the same file twice."""
    if batch.errors:
        raise Invalid.one("file", _("This file has errors; correct them and upload it again."))
    result = db.session.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == ImportStatus.CHECKED)
        .values(status=ImportStatus.COMMIT_QUEUED)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict.one("file", _("This import is not waiting for confirmation."))
    # The object follows the row; its flush writes who asked for the import to the audit log.
    batch.status = ImportStatus.COMMIT_QUEUED
    db.session.flush()
    return True


def finish(batch: ImportBatch, outcome: Outcome, *, committed: bool) -> None:
    """Record the outcome on the batch (in the transaction the caller commits)."""
    batch.processed_rows = batch.total_rows
    batch.errors = sorted(outcome.errors, key=lambda e: (e["row"], e["column"] or ""))
    batch.created_count = outcome.created
    if committed:
        batch.status = ImportStatus.DONE
        batch.finished_at = clock.now()
    elif batch.status == ImportStatus.COMMITTING:
        batch.status = ImportStatus.FAILED
        batch.finished_at = clock.now()
    else:
        batch.status = ImportStatus.CHECKED
    batch.heartbeat_at = clock.now()
    db.session.flush()


def unexpected_error_message() -> str:
    return _(
        "An unexpected error stopped the work on this file; nothing was imported. "
        "The administrators can find the details in the worker's log."
    )


def visible_batches(user: User, limit: int = 50) -> list[ImportBatch]:
    stmt = sa.select(ImportBatch).order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
    if user.region_code is not None:
        stmt = stmt.where(ImportBatch.region_code == user.region_code)
    return list(db.session.scalars(stmt.limit(limit)))


def may_see(user: User, batch: ImportBatch) -> bool:
    return in_scope(user, batch.region_code)
