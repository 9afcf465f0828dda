"""The dashboard's snapshots: every scope's figures stored by the workers after each scan.

Going through every late milestone of a large registry takes the workers seconds; the page then
reads its scope's row in one query. A row is used only for its own day and while younger than
two scan intervals (one scan missed); otherwise (no worker yet, a new day, workers down) the page
computes its scope on the spot and stores it, so the next visitor reads it. Writes are upserts
that never replace newer figures with older ones, so two refreshes at once are harmless.

With the figures, the dashboard's three SVG charts are drawn in every language and stored
(`DashboardChart`): drawing them was most of the page's time, and they change only with the
figures. The page inserts the stored charts of its language when they belong to the snapshot it
read (same `computed_at`), and draws them itself otherwise.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ppp_tracker import clock
from ppp_tracker.auth.models import User
from ppp_tracker.core import versions
from ppp_tracker.db import db
from ppp_tracker.reports import dashboard
from ppp_tracker.reports.models import DashboardChart, DashboardSnapshot


def _insert(table):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def draw_charts(board: dashboard.Dashboard) -> Markup:
    """The dashboard's charts of `board` in the current language (templates autoescape)."""
    from ppp_tracker.core.web import locale_code
    from ppp_tracker.reports import charts
    from ppp_tracker.reports.views import money_text

    locale = locale_code()
    today = board.as_of
    region_chart = charts.hbar_chart(
        [
            (
                bar.name(locale),
                bar.overdue,
                _("%(money)s accrued", money=money_text(bar.accrued, locale)),
                url_for("deadlines.deadlines", region=bar.code, _anchor="overdue"),
            )
            for bar in board.by_region
        ]
    )
    exposure_chart = charts.line_chart(
        [(p.on, p.total, p.projected) for p in board.exposure], today=today
    )
    overview = charts.timeline(dashboard.overview_rows(board, today), today=today)
    # Our own template's output (autoescaped): safe to insert as it is.
    return Markup(  # noqa: S704
        render_template(
            "reports/_dashboard_charts.html",
            board=board,
            region_chart=region_chart,
            exposure_chart=exposure_chart,
            overview=overview,
            today=today,
        )
    )


def _draw_in_every_language(board: dashboard.Dashboard) -> dict[str, str]:
    """The charts in each configured language; links relative to BASE_URL's path outside a
    request (the workers), as the page's own."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        context = nullcontext()
    else:
        base = urlsplit(current_app.config["BASE_URL"])
        context = current_app.test_request_context(
            base.path or "/", base_url=f"{base.scheme or 'http'}://{base.netloc}{base.path}"
        )
    with context:
        out = {}
        for locale in languages:
            with force_locale(locale):
                out[locale] = str(draw_charts(board))
    return out


def _upsert(scope: str, board: dashboard.Dashboard, computed_at) -> dict[str, str]:
    table = DashboardSnapshot.__table__
    insert = _insert
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
    # The dashboard's body, kept per data version, shows the new figures with this commit.
    versions.changed(db.session)
    charts = DashboardChart.__table__
    drawn = _draw_in_every_language(board)
    for locale, html in drawn.items():
        stmt = insert(charts).values(scope=scope, locale=locale, computed_at=computed_at, html=html)
        stmt = stmt.on_conflict_do_update(
            index_elements=[charts.c.scope, charts.c.locale],
            set_={k: stmt.excluded[k] for k in ("computed_at", "html")},
            where=charts.c.computed_at <= stmt.excluded.computed_at,
        )
        db.session.execute(stmt)
    return drawn


def refresh(as_of: date | None = None) -> int:
    """Compute and store the figures of every scope (what the workers run after a scan)."""
    as_of = as_of or clock.today()
    started = clock.now()
    boards = dashboard.compute(as_of)
    for scope, board in boards.items():
        _upsert(scope, board, started)
    db.session.flush()
    return len(boards)


def fresh_until(row: DashboardSnapshot):
    """Until when a snapshot may be shown: the workers refresh every scope after each scan, so
    one older than two scan intervals means a scan was missed (workers down?) and the figures
    are computed by the page instead."""
    return row.computed_at + timedelta(minutes=2 * current_app.config["SCAN_INTERVAL_MINUTES"])


def _fresh(row: DashboardSnapshot | None, as_of: date) -> bool:
    if row is None or row.as_of != as_of:
        return False
    return clock.now() <= fresh_until(row)


def stored(user: User, as_of: date, locale: str) -> tuple[DashboardSnapshot, str | None] | None:
    """The fresh stored snapshot of `user`'s scope with its charts in `locale` (None when they
    belong to other figures), in one query; None without a fresh snapshot."""
    found = db.session.execute(
        sa.select(DashboardSnapshot, DashboardChart.html)
        .outerjoin(
            DashboardChart,
            sa.and_(
                DashboardChart.scope == DashboardSnapshot.scope,
                DashboardChart.locale == locale,
                DashboardChart.computed_at == DashboardSnapshot.computed_at,
            ),
        )
        .where(DashboardSnapshot.scope == dashboard.scope_key(user))
    ).first()
    return (found[0], found[1]) if found is not None and _fresh(found[0], as_of) else None


_READ = object()


def dashboard_for(
    user: User,
    as_of: date | None = None,
    locale: str | None = None,
    found=_READ,
    widgets: list[dashboard.Widget] | None = None,
) -> dashboard.Dashboard:
    """The dashboard of `user`'s scope: its stored snapshot, or computed and stored now; with
    its charts in `locale` (the request's language) when they were stored with it. `found` is
    what `stored` returned when the caller read it already, `widgets` the widgets likewise."""
    from ppp_tracker.core.web import locale_code

    as_of = as_of or clock.today()
    locale = locale or locale_code()
    scope = dashboard.scope_key(user)
    if found is _READ:
        found = stored(user, as_of, locale)
    if found is not None:
        row, html = found
        board = dashboard.Dashboard.from_json(row.data, row.computed_at)
        # Stored by `draw_charts` above: our template's autoescaped output, never user input.
        board.charts = Markup(html) if html is not None else None  # noqa: S704
    else:
        started = clock.now()
        board = dashboard.compute(as_of, only=scope)[scope]
        drawn = _upsert(scope, board, started)
        board.computed_at = started
        board.stored_now = True
        board.charts = Markup(drawn[locale]) if locale in drawn else None  # noqa: S704
    board.widgets = dashboard.widgets(user) if widgets is None else widgets
    return board
