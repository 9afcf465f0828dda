"""Reports pages: the dashboard, the timeline, deadlines, search, exports, the overdue PDF,
imports, the calendar feed's profile card — and the public feed and open-data addresses."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, get_in_scope, require
from ppp_tracker.core import versions
from ppp_tracker.core.audit import record_action
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors, flash_errors
from ppp_tracker.core.validation import positive_id
from ppp_tracker.core.web import locale_code, url_with_args
from ppp_tracker.db import db
from ppp_tracker.registry.views.common import region_choices
from ppp_tracker.reports import (
    calendar_feed,
    charts,
    deadline_list,
    exports,
    imports,
    ocds,
    search,
    snapshots,
)
from ppp_tracker.reports import timeline as timeline_data
from ppp_tracker.reports.dashboard import scope_key, widgets
from ppp_tracker.reports.forms import ButtonForm, ImportForm
from ppp_tracker.reports.models import ImportBatch, ImportKind
from ppp_tracker.reports.pdf import overdue_pdf
from ppp_tracker.reports.tasks import check_import
from ppp_tracker.reports.tasks import commit_import as commit_task

bp = Blueprint("reports", __name__)
bp.add_url_rule("/deadlines", "deadlines", deadline_list.deadlines_page)
#: Addresses without a login: the secret calendar feed and the (optional) public open data.
feeds = Blueprint("feeds", __name__)


@bp.before_request
@login_required
def _logged_in():
    """Every reports page needs a logged-in user; each view then asks for its permission."""


# --- dashboard and charts ------------------------------------------------------------------------


#: Seconds a dashboard request waits for the body another request is rendering.
DASHBOARD_RENDER_WAIT_S = 0.2


@bp.get("/", endpoint="home")
def dashboard_page():
    """The start page (`reports.home`): the dashboard of the user's scope."""

    user = require(Permission.READ)
    today = clock.today()
    locale = locale_code()

    def render() -> versions.Body:
        found = snapshots.stored(user, today, locale)
        board = snapshots.dashboard_for(user, today, locale, found=found, widgets=widgets(user))
        if board.stored_now:
            # Computed here when no fresh snapshot existed: stored for the next visitor. (Only
            # then: a commit expires the loaded user, whom the page would read again.)
            db.session.commit()
        html = render_template(
            "reports/_dashboard_body.html",
            board=board,
            # Stored with the snapshot (drawn by our templates, escaped then), else drawn now.
            charts=board.charts if board.charts is not None else snapshots.draw_charts(board),
            computed_at=board.computed_at,
            computed_time=clock.to_local(board.computed_at).strftime("%H:%M"),
        )
        # Kept until the snapshot is too old to show; one computed without a stored snapshot
        # is not kept (the next request stores or finds one).
        if isinstance(found, snapshots.Stale):
            return versions.Body(html, keep=False)
        return versions.Body(html, expires_at=snapshots.fresh_until(found[0]))

    # The body (everything but the layout with the user's name and CSRF tokens) shows the
    # scope's snapshot and the feature cards, i.e. audited data and stored figures: it is
    # rendered once per scope, language, day and data version (core.versions; storing a
    # snapshot moves the version too), shared by every user of the scope.
    key = (
        "reports.dashboard",
        scope_key(user),
        # The region is named in the body.
        user.region.name(locale) if user.region else None,
        locale,
        today,
    )
    # A dashboard body renders in milliseconds from a stored snapshot, or takes seconds when its
    # figures are computed (a large registry, after a change) — and then the others show the last
    # figures themselves (`snapshots.dashboard_for`): waiting longer for that body is waiting
    # for nothing.
    body = versions.cached_body(key, render, wait=DASHBOARD_RENDER_WAIT_S)
    return render_template("reports/dashboard.html", body=body, refresh_form=ButtonForm())


@bp.post("/dashboard/refresh")
def refresh_dashboard():
    """The dashboard's figures of the user's scope computed again now (they follow every
    change already; this is for a manager who wants to be sure), audited."""

    user = require(Permission.EDIT_REGISTRY)
    if not ButtonForm().validate_on_submit():
        abort(400)
    board = snapshots.refresh_scope(user)
    scope = scope_key(user)
    record_action(
        db.session,
        "refresh",
        "dashboard_snapshots",
        scope,
        region_code=user.region_code,
        changes={"computed_at": [None, board.computed_at.isoformat()]},
    )
    db.session.commit()
    current_app.logger.info("dashboard figures of scope %s recomputed by %s", scope, user.email)
    flash(
        _(
            "The figures were computed again at %(time)s.",
            time=clock.to_local(board.computed_at).strftime("%H:%M"),
        ),
        "success",
    )
    return redirect(url_for("reports.home"))


def money_compact(value) -> str:
    """An axis label: "1,5 млрд ₸" rather than "1 500 000 000,00 ₸"."""
    from babel.numbers import format_compact_decimal

    locale = {"ru": "ru_KZ", "kk": "kk_KZ"}.get(locale_code(), "en")
    return format_compact_decimal(value, locale=locale, fraction_digits=1) + "\u00a0₸"


#: The timeline's zoom levels: how many times wider than the page the time axis is drawn.
TIMELINE_ZOOMS = (1, 2, 4)


@bp.get("/timeline")
def timeline():
    user = require(Permission.READ)
    today = clock.today()
    region = request.args.get("region") or None
    project_id = positive_id(request.args.get("project_id"))
    show = "sites" if request.args.get("show") == "sites" else "projects"
    zoom = positive_id(request.args.get("zoom"))
    zoom = zoom if zoom in TIMELINE_ZOOMS else 1
    page = positive_id(request.args.get("page")) or 1
    width = 1100 * zoom
    if show == "sites":
        pages, sites = timeline_data.scoped_sites(user, region=region, page=page)
        charts_by_subject = [
            (
                site,
                charts.timeline(
                    timeline_data.contract_rows(site.contracts, today), today=today, width=width
                ),
            )
            for site in sites
        ]
    else:
        pages, projects = timeline_data.scoped_projects(
            user, region=region, project_id=project_id, page=page
        )
        charts_by_subject = [
            (
                project,
                charts.timeline(
                    timeline_data.project_rows(project, today), today=today, width=width
                ),
            )
            for project in projects
        ]
    return render_template(
        "reports/timeline.html",
        charts_by_subject=charts_by_subject,
        show=show,
        pages=pages,
        zoom=zoom,
        zooms=TIMELINE_ZOOMS,
        regions=region_choices(blank=_("All regions")),
        region=region,
    )


# --- search --------------------------------------------------------------------------------------


@bp.get("/search")
def search_page():
    user = require(Permission.READ)
    only = request.args.get("only")
    only = only if only in search.GROUPS else None
    results = search.search(user, request.args.get("q", ""), only=only)
    return render_template(
        "reports/search.html", results=results, only=only, min_query=search.MIN_QUERY
    )


# --- exports -------------------------------------------------------------------------------------


@bp.get("/export/<list_name>.<file_format>")
def export_list(list_name: str, file_format: str):
    user = require(Permission.READ)
    if list_name not in exports.EXPORTS or file_format not in exports.FORMATS:
        abort(404)
    try:
        content = exports.render(list_name, file_format, user, request.args)
    except exports.TooManyRows:
        flash(
            _(
                "The list has more than %(n)d rows; narrow it with the filters first.",
                n=exports.MAX_EXPORT_ROWS,
            ),
            "warning",
        )
        return redirect(request.referrer or url_for("reports.home"))
    return send_file(
        io.BytesIO(content),
        mimetype=exports.FORMATS[file_format],
        as_attachment=True,
        download_name=exports.filename(list_name, file_format),
    )


def export_url(list_name: str, file_format: str) -> str:
    """The export of the list on this page, with the page's filters (and without its page)."""
    return url_with_args(
        "reports.export_list",
        request.args,
        ("page", "per_page"),
        list_name=list_name,
        file_format=file_format,
    )


def export_buttons(list_name: str) -> Markup:
    # Our own template, rendered with autoescaping: safe to embed as it is.
    return Markup(render_template("reports/_export_buttons.html", list_name=list_name))  # noqa: S704


@bp.get("/reports/overdue.pdf")
def overdue_report():
    user = require(Permission.READ)
    region = request.args.get("region") or None
    today = clock.today()
    content = overdue_pdf(user, today, locale_code(), region)
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=False,
        download_name=f"overdue-{today.isoformat()}.pdf",
    )


# --- imports -------------------------------------------------------------------------------------


@bp.route("/imports", methods=["GET", "POST"])
def imports_page():
    user = require(Permission.EDIT_REGISTRY)
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            batch = imports.create_batch(user, form.kind.data, upload.filename or "", upload.read())
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
        else:
            # Queued only now that the batch is committed, so the worker surely finds it.
            check_import.delay(batch.id)
            return redirect(url_for("reports.import_batch", import_id=batch.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "reports/imports.html",
        form=form,
        batches=imports.visible_batches(user),
        kinds=list(ImportKind),
    ), status


@bp.get("/imports/template/<import_kind>.xlsx")
def import_template(import_kind: str):
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    require(Permission.EDIT_REGISTRY)
    try:
        kind = ImportKind(import_kind)
    except ValueError:
        abort(404)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(kind.label)[:31]
    columns = imports.COLUMNS[kind]
    sheet.append([str(c.label) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(1, len(columns) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 22
    notes = workbook.create_sheet(_("Columns"))
    notes.append([_("Column"), _("Also accepted as"), _("Required"), _("Format")])
    for column in columns:
        # The values as the user reads them in the app (their codes are accepted too).
        allowed = ", ".join(str(m.label) for m in column.enum) if column.enum else ""
        notes.append(
            [
                str(column.label),
                column.key,
                _("yes") if column.required else "",
                " · ".join(x for x in (str(column.hint or ""), allowed) if x),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return send_file(
        io.BytesIO(buffer.getvalue()),
        mimetype=exports.FORMATS["xlsx"],
        as_attachment=True,
        download_name=f"import-{kind.value}.xlsx",
    )


def _batch(import_id: int) -> ImportBatch:
    return get_in_scope(ImportBatch, import_id)


@bp.get("/imports/<id:import_id>")
def import_batch(import_id: int):
    require(Permission.EDIT_REGISTRY)
    batch = _batch(import_id)
    return render_template(
        "reports/import_batch.html",
        batch=batch,
        form=ButtonForm(),
        column_label=lambda key: imports.column_label(batch.kind, key),
    )


@bp.get("/imports/<id:import_id>/progress")
def import_progress(import_id: int):
    require(Permission.EDIT_REGISTRY)
    batch = _batch(import_id)
    response = Response(render_template("reports/_import_progress.html", batch=batch))
    if not batch.busy and request.headers.get("HX-Request"):
        # Done: reload the page, which now shows the outcome.
        response.headers["HX-Refresh"] = "true"
    return response


@bp.post("/imports/<id:import_id>/commit")
def commit_import(import_id: int):
    require(Permission.EDIT_REGISTRY)
    batch = _batch(import_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        imports.request_commit(batch)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        flash_errors(exc)
    else:
        commit_task.delay(batch.id)
    return redirect(url_for("reports.import_batch", import_id=batch.id))


# --- calendar feed -------------------------------------------------------------------------------


def calendar_panel() -> Markup | None:
    """The profile card: the feed's address, how to subscribe, renew and revoke."""
    user = g.get("user")
    if user is None:
        return None
    feed = calendar_feed.feed_of(user)
    # Our own template, rendered with autoescaping: safe to embed as it is.
    return Markup(  # noqa: S704
        render_template(
            "reports/_calendar_panel.html",
            feed=feed,
            feed_url=calendar_feed.feed_url(feed) if feed else None,
            form=ButtonForm(),
        )
    )


@bp.post("/profile/calendar/renew")
def renew_calendar():
    user = require(Permission.READ)
    if not ButtonForm().validate_on_submit():
        abort(400)
    had_one = calendar_feed.feed_of(user) is not None
    calendar_feed.renew_feed(user)
    db.session.commit()
    flash(
        _("Your calendar has a new address; the old one no longer works.")
        if had_one
        else _("Your calendar address is ready."),
        "success",
    )
    return redirect(url_for("auth.profile") + "#calendar-feed")


@bp.post("/profile/calendar/revoke")
def revoke_calendar():
    user = require(Permission.READ)
    if not ButtonForm().validate_on_submit():
        abort(400)
    calendar_feed.revoke_feed(user)
    db.session.commit()
    flash(_("Your calendar address is switched off."), "success")
    return redirect(url_for("auth.profile") + "#calendar-feed")


@feeds.get("/calendar/<token>.ics")
def calendar(token: str):
    """The feed itself: the secret in the address is the only authentication (calendar apps
    cannot log in); the events are those the feed's owner may see today."""
    feed = calendar_feed.feed_for_token(token)
    if feed is None:
        abort(404)
    body = calendar_feed.build_calendar(feed.user)
    calendar_feed.note_fetch(feed)
    db.session.commit()
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="ppp-tracker.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.add_etag()
    return response.make_conditional(request)


@feeds.get("/open-data/ocds/contracts.json")
def open_data():
    """All contracts as one OCDS release package, when the department publishes open data."""
    if not current_app.config.get("OCDS_PUBLIC"):
        abort(404)
    package = ocds.bulk_package(None, request.url)
    response = Response(ocds.dumps(package), mimetype="application/json")
    response.headers["Content-Disposition"] = 'inline; filename="ocds-contracts.json"'
    return response
