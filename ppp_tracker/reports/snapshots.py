"""The dashboard's snapshots: every scope's figures stored by the workers after each scan.

Going through every late milestone of a large registry takes the workers seconds; the page then
reads its scope's row in one query. A row is used only for its own day and while younger than
two scan intervals (one scan missed); otherwise (no worker yet, a new day, workers down) the page
computes its scope on the spot and stores it, so the next visitor reads it. Writes are upserts
that never replace newer figures with older ones, so two refreshes at once are harmless.

Figures follow changes at once: a commit that changes what they count (a milestone, contract,
project, stage or site) moves the generation of its region's scope and of the all-regions scope
(`DashboardGeneration`, below); a snapshot stores the generation it was computed against and is
stale once it moved. The page then computes its region again (a region is small), and the
all-regions figures are combined from the regions' (`dashboard.combine`: only the changed region
is computed again), so that right after a change the dashboard, the deadlines page, the overdue
report and the exports agree.

With the figures, the dashboard's three SVG charts are drawn in every language and stored
(`DashboardChart`): drawing them was most of the page's time, and they change only with the
figures. The page inserts the stored charts of its language when they belong to the snapshot it
read (same `computed_at`), and draws them itself otherwise.
"""

from __future__ import annotations

import zlib
from contextlib import nullcontext
from datetime import date, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from ppp_tracker import clock
from ppp_tracker.auth.models import User
from ppp_tracker.core import versions
from ppp_tracker.core.regions import Region
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.money import format_money
from ppp_tracker.registry.models import Contract, Milestone, ProductionSite, Project, ProjectStage
from ppp_tracker.reports import charts, dashboard
from ppp_tracker.reports.models import DashboardChart, DashboardGeneration, DashboardSnapshot


def _insert(table):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def draw_charts(board: dashboard.Dashboard) -> Markup:
    """The dashboard's charts of `board` in the current language (templates autoescape)."""

    locale = locale_code()
    today = board.as_of
    region_chart = charts.hbar_chart(
        [
            (
                bar.name(locale),
                bar.overdue,
                _("%(money)s accrued", money=format_money(bar.accrued, locale)),
                url_for("reports.deadlines", region=bar.code, _anchor="overdue"),
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


def _upsert(
    scope: str, board: dashboard.Dashboard, computed_at, generation: int = 0
) -> dict[str, str]:
    table = DashboardSnapshot.__table__
    insert = _insert
    values = {
        "scope": scope,
        "as_of": board.as_of,
        "computed_at": computed_at,
        "data": board.to_json(),
        "generation": generation,
    }
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.scope],
        set_={k: stmt.excluded[k] for k in ("as_of", "computed_at", "data", "generation")},
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


def generations(scopes: list[str] | None = None) -> dict[str, int]:
    """The scopes' generations now (0 for a scope no change has touched yet)."""
    stmt = sa.select(DashboardGeneration.scope, DashboardGeneration.generation)
    if scopes is not None:
        stmt = stmt.where(DashboardGeneration.scope.in_(scopes))
    return dict(db.session.execute(stmt).all())


def refresh(as_of: date | None = None) -> int:
    """Compute and store the figures of every scope (what the workers run after a scan)."""
    as_of = as_of or clock.today()
    started = clock.now()
    # Read before the figures: a change committed while they are computed leaves them stale.
    seen = generations()
    boards = dashboard.compute(as_of)
    for scope, board in boards.items():
        _upsert(scope, board, started, seen.get(scope, 0))
    db.session.flush()
    return len(boards)


def refresh_scope(user: User, as_of: date | None = None) -> dashboard.Dashboard:
    """Compute and store the figures of `user`'s scope now (the dashboard's refresh button):
    every scope for a user of all regions, the region (and so the all-regions figures, which
    include it) otherwise."""
    as_of = as_of or clock.today()
    scope = dashboard.scope_key(user)
    if scope == dashboard.ALL_REGIONS:
        refresh(as_of)
    else:
        started = clock.now()
        seen = generations([scope])
        board = dashboard.compute(as_of, only=scope)[scope]
        _upsert(scope, board, started, seen.get(scope, 0))
        bump(db.session, {dashboard.ALL_REGIONS})
        db.session.flush()
    return dashboard_for(user, as_of)


def fresh_until(row: DashboardSnapshot):
    """Until when a snapshot may be shown: the workers refresh every scope after each scan, so
    one older than two scan intervals means a scan was missed (workers down?) and the figures
    are computed by the page instead."""
    return row.computed_at + timedelta(minutes=2 * current_app.config["SCAN_INTERVAL_MINUTES"])


def _fresh(row: DashboardSnapshot | None, as_of: date, generation: int | None) -> bool:
    if row is None or row.as_of != as_of or row.generation != (generation or 0):
        return False
    return clock.now() <= fresh_until(row)


class Stale:
    """No fresh snapshot of a scope: what `stored` read of it (to compute it again)."""

    def __init__(
        self,
        generation: int,
        snapshot: DashboardSnapshot | None = None,
        html: str | None = None,
    ):
        #: The scope's generation read with the snapshot: the new figures are stored with it.
        self.generation = generation
        #: The scope's last stored figures (stale) and their charts in the page's language.
        self.snapshot = snapshot
        self.html = html


def stored(user: User, as_of: date, locale: str) -> tuple[DashboardSnapshot, str | None] | Stale:
    """The fresh stored snapshot of `user`'s scope with its charts in `locale` (None when they
    belong to other figures), in one query; a `Stale` without a fresh snapshot."""
    scope = dashboard.scope_key(user)
    # One round trip: the snapshot (if any), its charts and the scope's generation (if any).
    wanted = sa.select(sa.literal(scope).label("scope")).subquery("wanted")
    row = db.session.execute(
        sa.select(DashboardSnapshot, DashboardChart.html, DashboardGeneration.generation)
        .select_from(wanted)
        .outerjoin(DashboardSnapshot, DashboardSnapshot.scope == wanted.c.scope)
        .outerjoin(
            DashboardChart,
            sa.and_(
                DashboardChart.scope == DashboardSnapshot.scope,
                DashboardChart.locale == locale,
                DashboardChart.computed_at == DashboardSnapshot.computed_at,
            ),
        )
        .outerjoin(DashboardGeneration, DashboardGeneration.scope == wanted.c.scope)
    ).first()
    snapshot, html, generation = row if row is not None else (None, None, None)
    if _fresh(snapshot, as_of, generation):
        return snapshot, html
    return Stale(generation or 0, snapshot, html)


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

    as_of = as_of or clock.today()
    locale = locale or locale_code()
    scope = dashboard.scope_key(user)
    if found is _READ:
        found = stored(user, as_of, locale)
    if not isinstance(found, Stale):
        board = _from_row(*found)
    elif _being_computed(scope, as_of, found):
        # Another request is computing these figures now (seconds on a large registry): show
        # the last stored ones of the day, marked as being updated, instead of computing them
        # once more beside it (after a write every second, every thread would).
        board = _from_row(found.snapshot, found.html)
        board.updating = True
    else:
        started = clock.now()
        if scope == dashboard.ALL_REGIONS:
            board = _all_regions(as_of, started)
        else:
            board = dashboard.compute(as_of, only=scope)[scope]
        drawn = _upsert(scope, board, started, found.generation)
        board.computed_at = started
        board.stored_now = True
        board.charts = Markup(drawn[locale]) if locale in drawn else None  # noqa: S704
    board.widgets = dashboard.widgets(user) if widgets is None else widgets
    return board


def _from_row(row: DashboardSnapshot, html: str | None) -> dashboard.Dashboard:
    board = dashboard.Dashboard.from_json(row.data, row.computed_at)
    # Stored by `draw_charts` above: our template's autoescaped output, never user input.
    board.charts = Markup(html) if html is not None else None  # noqa: S704
    return board


def _being_computed(scope: str, as_of: date, found: Stale) -> bool:
    """Whether another transaction is computing `scope`'s figures of `as_of` right now, when
    figures of that day are stored to show meanwhile; if not, this transaction takes the
    scope's lock (a PostgreSQL advisory lock, released when it commits the new figures). On
    SQLite (one process, the embedded default) nothing is computed beside it: False."""
    if found.snapshot is None or found.snapshot.as_of != as_of:
        return False
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    key = zlib.crc32(f"dashboard:{scope}".encode())
    return not db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(key)))


#: Stale regions computed one by one for the all-regions figures; with more (a new day, no
#: snapshots yet) every scope is computed in one pass instead.
COMBINE_AT_MOST = 3


def _all_regions(as_of: date, started) -> dashboard.Dashboard:
    """The all-regions figures from the regions' snapshots, computing only the stale regions
    (and storing them): after a change in one region, one region is computed, not all."""

    codes = list(db.session.scalars(sa.select(Region.code).order_by(Region.code)))
    rows = db.session.execute(
        sa.select(DashboardSnapshot, DashboardGeneration.generation)
        .select_from(DashboardSnapshot)
        .outerjoin(DashboardGeneration, DashboardGeneration.scope == DashboardSnapshot.scope)
        .where(DashboardSnapshot.scope.in_(codes))
    ).all()
    seen = generations(codes)
    fresh = {
        row.scope: dashboard.Dashboard.from_json(row.data, row.computed_at)
        for row, generation in rows
        if _fresh(row, as_of, generation)
    }
    stale = [code for code in codes if code not in fresh]
    if len(stale) > COMBINE_AT_MOST:
        boards = dashboard.compute(as_of)
        for code in codes:
            _upsert(code, boards[code], started, seen.get(code, 0))
        return boards[dashboard.ALL_REGIONS]
    for code in stale:
        fresh[code] = dashboard.compute(as_of, only=code)[code]
        _upsert(code, fresh[code], started, seen.get(code, 0))
    return dashboard.combine(as_of, {code: fresh[code] for code in codes})


# --- the generations move with the changes -------------------------------------------------

#: `session.info` key: the scopes whose figures this transaction changed.
TOUCHED = "ppp_dashboard_scopes"


def _counted_models():

    return (Milestone, Contract, Project, ProjectStage, ProductionSite, Region)


def _regions_of(obj, session: Session) -> set[str] | None:
    """The region scopes `obj`'s change touches (its region, and its former one when it moved);
    None for every scope (a region's names are on every dashboard)."""

    if isinstance(obj, Region):
        return None
    out = set()
    try:
        code = obj.region_code
    except Exception:  # a record whose parent is gone with it
        return None
    if code:
        out.add(code)
    if "region_code" in sa.inspect(type(obj)).columns:
        history = attributes.get_history(
            obj, "region_code", passive=attributes.PASSIVE_NO_INITIALIZE
        )
        out.update(c for c in history.deleted if c)
    return out


@event.listens_for(Session, "after_flush")
def _collect_touched_scopes(session: Session, flush_context) -> None:
    models = _counted_models()
    touched = session.info.get(TOUCHED)
    changed = (("new", session.new), ("dirty", session.dirty), ("gone", session.deleted))
    for mode, objects in changed:
        for obj in objects:
            if not isinstance(obj, models):
                continue
            if mode == "dirty" and not session.is_modified(obj):
                continue
            regions = _regions_of(obj, session)
            if touched is None:
                touched = session.info[TOUCHED] = set()
            if regions is None:
                touched.add(None)
            else:
                touched.update(regions)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statements_touch_every_scope(state) -> None:
    mapper = state.bind_arguments.get("mapper")
    bulk = state.is_update or state.is_delete
    if bulk and mapper is not None and issubclass(mapper.class_, _counted_models()):
        state.session.info.setdefault(TOUCHED, set()).add(None)


@event.listens_for(Session, "before_commit")
def _move_generations(session: Session) -> None:
    # As the data version (core.versions): at the real COMMIT only, so that the all-regions
    # row is locked from here to the COMMIT, not for a whole import's transaction.
    if session.in_nested_transaction():
        return
    session.flush()
    touched = session.info.pop(TOUCHED, None)
    if touched:
        bump(session, touched)


@event.listens_for(Session, "after_transaction_end")
def _forget_touched(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(TOUCHED, None)


def bump(session: Session, scopes: set[str | None]) -> None:
    """Move the generations of these region scopes (None: every scope) and of all regions."""
    if None in scopes:
        scopes = set(session.scalars(sa.select(Region.code)))
    wanted = sorted({dashboard.ALL_REGIONS, *scopes})
    table = DashboardGeneration.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values([{"scope": scope, "generation": 1} for scope in wanted])
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.scope], set_={"generation": table.c.generation + 1}
    )
    session.connection().execute(stmt)
