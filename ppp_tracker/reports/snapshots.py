"""The dashboard's snapshots: every scope's figures stored by the workers after each scan.

Going through every late milestone of a large registry takes the workers seconds; the page then
reads its scope's row in one query. A row is used only for its own day and while younger than
two scan intervals (one scan missed); otherwise (no worker yet, a new day, workers down) the page
computes its scope on the spot and stores it, so the next visitor reads it. Writes are upserts
that never replace newer figures with older ones, so two refreshes at once are harmless.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from ppp_tracker import clock
from ppp_tracker.auth.models import User
from ppp_tracker.db import db
from ppp_tracker.reports import dashboard
from ppp_tracker.reports.models import DashboardSnapshot


def _upsert(scope: str, board: dashboard.Dashboard, computed_at) -> None:
    table = DashboardSnapshot.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    values = {
        "scope": scope,
        "as_of": board.as_of,
        "computed_at": computed_at,
        "data": board.to_json(),
    }
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.scope],
        set_={k: stmt.excluded[k] for k in ("as_of", "computed_at", "data")},
        # A slow refresh that started earlier must not overwrite a later one.
        where=table.c.computed_at <= stmt.excluded.computed_at,
    )
    db.session.execute(stmt)


def refresh(as_of: date | None = None) -> int:
    """Compute and store the figures of every scope (what the workers run after a scan)."""
    as_of = as_of or clock.today()
    started = clock.now()
    boards = dashboard.compute(as_of)
    for scope, board in boards.items():
        _upsert(scope, board, started)
    db.session.flush()
    return len(boards)


def _fresh(row: DashboardSnapshot | None, as_of: date) -> bool:
    if row is None or row.as_of != as_of:
        return False
    # The workers refresh every scope after each scan: older than two intervals, a scan was
    # missed (workers down?) and the figures are computed here instead.
    stale = timedelta(minutes=2 * current_app.config["SCAN_INTERVAL_MINUTES"])
    return clock.now() - row.computed_at <= stale


def dashboard_for(user: User, as_of: date | None = None) -> dashboard.Dashboard:
    """The dashboard of `user`'s scope: its stored snapshot, or computed and stored now."""
    as_of = as_of or clock.today()
    scope = dashboard.scope_key(user)
    row = db.session.get(DashboardSnapshot, scope)
    if _fresh(row, as_of):
        board = dashboard.Dashboard.from_json(row.data, row.computed_at)
    else:
        started = clock.now()
        board = dashboard.compute(as_of, only=scope)[scope]
        _upsert(scope, board, started)
        board.computed_at = started
    board.widgets = dashboard.widgets(user)
    return board
