"""The timeline (Gantt) of projects and production sites: a project's stages as bars, and the
milestones of a project's or a site's contracts as points, coloured by state, against today's
line. Every project, and every site whose contracts have milestones, in the user's scope, a page
at a time."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import MilestoneState, days_late_phrase, timing
from ppp_tracker.core.listing import Pages
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone, ProductionSite, Project, ProjectStage
from ppp_tracker.reports.charts import Mark, Span, TimelineRow


def _d(day: date) -> str:
    return day.strftime("%d.%m.%Y")


#: Charts drawn on one page of the timeline.
PER_PAGE = 20


def scoped_projects(
    user: User,
    *,
    region: str | None = None,
    project_id: int | None = None,
    page: int | None = None,
) -> list[Project] | tuple[Pages, list[Project]]:
    """The projects in scope (all of them, or one `page` with its pager)."""
    stmt = scope(sa.select(Project), user, Project.region_code)
    if region:
        stmt = stmt.where(Project.region_code == region)
    if project_id:
        stmt = stmt.where(Project.id == project_id)
    stmt = stmt.options(
        selectinload(Project.stages),
        selectinload(Project.contracts).selectinload(Contract.milestones),
    ).order_by(Project.region_code, Project.title, Project.id)
    if page is None:
        return list(db.session.scalars(stmt))
    return _page(stmt, page, "projects")


def scoped_sites(
    user: User, *, region: str | None = None, page: int = 1
) -> tuple[Pages, list[ProductionSite]]:
    """One page of the production sites in scope whose contracts have milestones."""
    has_milestones = (
        sa.select(Milestone.id)
        .join(Contract, Milestone.contract_id == Contract.id)
        .where(Contract.site_id == ProductionSite.id, Milestone.due_on.is_not(None))
        .exists()
    )
    stmt = scope(sa.select(ProductionSite), user, ProductionSite.region_code).where(has_milestones)
    if region:
        stmt = stmt.where(ProductionSite.region_code == region)
    stmt = stmt.options(
        selectinload(ProductionSite.contracts).selectinload(Contract.milestones)
    ).order_by(ProductionSite.region_code, ProductionSite.name, ProductionSite.id)
    return _page(stmt, page, "sites")


def _page(stmt, page: int, anchor: str):
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).options().subquery())
    )
    pages = Pages(total or 0, 1, PER_PAGE, anchor=anchor)
    pages.page = min(max(1, page), pages.pages)
    rows = db.session.scalars(stmt.limit(PER_PAGE).offset((pages.page - 1) * PER_PAGE)).all()
    return pages, list(rows)


def _stage_state(stage: ProjectStage, today: date) -> str:
    if stage.actual_on is not None:
        if stage.planned_on is not None and stage.actual_on > stage.planned_on:
            return "done-late"
        return "done"
    if stage.planned_on is not None and stage.planned_on < today:
        return "overdue"
    return "planned"


def _stage_title(stage: ProjectStage, state: str) -> str:
    parts = [str(stage.kind.label)]
    if stage.planned_on:
        parts.append(_("planned %(date)s", date=_d(stage.planned_on)))
    if stage.actual_on:
        parts.append(_("done %(date)s", date=_d(stage.actual_on)))
    elif state == "overdue":
        parts.append(_("not done yet"))
    return " · ".join(parts)


def stage_spans(project: Project, today: date) -> list[tuple[ProjectStage, Span]]:
    """Each dated stage as a bar from the end of the previous dated stage to its own date."""
    out = []
    previous_end: date | None = None
    for stage in sorted(project.stages, key=lambda s: s.position):
        end = stage.actual_on or stage.planned_on
        if end is None:
            continue
        start = previous_end if previous_end is not None and previous_end < end else end
        state = _stage_state(stage, today)
        out.append((stage, Span(start, end, f"stage-{state}", _stage_title(stage, state))))
        previous_end = max(end, previous_end) if previous_end else end
    return out


def milestone_marks(contract: Contract, milestone, today: date) -> tuple[list[Span], list[Mark]]:
    if milestone.due_on is None:
        return [], []
    t = timing(
        get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=today,
    )
    label = f"№ {contract.number}: {milestone.title}"
    title = f"{label} · {_('due %(date)s', date=_d(t.effective_due_on))} · {t.state.label}"
    if t.days_late:
        title += " · " + days_late_phrase(t.days_late)
    spans, marks = [], [Mark(t.effective_due_on, "diamond", f"ms-{t.state.value}", title)]
    if milestone.met_on is not None:
        marks.append(
            Mark(milestone.met_on, "circle", "ms-met", _("met %(date)s", date=_d(milestone.met_on)))
        )
        if t.state == MilestoneState.MET_LATE:
            spans.append(Span(t.effective_due_on, milestone.met_on, "delay", title))
    elif t.state == MilestoneState.OVERDUE:
        spans.append(Span(t.effective_due_on, today, "delay", title))
    return spans, marks


def project_rows(project: Project, today: date) -> list[TimelineRow]:
    """The detailed rows of one project: its stages, then its contracts' milestones."""
    rows: list[TimelineRow] = []
    for stage, span in stage_spans(project, today):
        row = TimelineRow(str(stage.kind.label), "stage", spans=[span])
        if stage.planned_on and stage.actual_on and stage.planned_on != stage.actual_on:
            planned = _("planned %(date)s", date=_d(stage.planned_on))
            row.marks.append(Mark(stage.planned_on, "tick", "planned", planned))
        rows.append(row)
    return rows + contract_rows(project.contracts, today)


def contract_rows(contracts, today: date) -> list[TimelineRow]:
    """One row per dated milestone of these contracts (a site's, or a project's)."""
    rows: list[TimelineRow] = []
    for contract in sorted(contracts, key=lambda c: (c.signed_on, c.id)):
        for milestone in contract.milestones:
            spans, marks = milestone_marks(contract, milestone, today)
            if not marks:
                continue
            rows.append(
                TimelineRow(
                    f"№ {contract.number}: {milestone.title}",
                    "milestone",
                    url_for("registry.milestone", milestone_id=milestone.id),
                    spans=spans,
                    marks=marks,
                )
            )
    return rows


def overview_rows(projects: list[Project], today: date) -> list[TimelineRow]:
    """One row per project: its stages side by side and its milestones on top."""
    rows = []
    for project in projects:
        row = TimelineRow(
            project.title, "project", url_for("registry.project", project_id=project.id)
        )
        row.spans = [span for _stage, span in stage_spans(project, today)]
        for contract in project.contracts:
            for milestone in contract.milestones:
                _spans, marks = milestone_marks(contract, milestone, today)
                row.marks.extend(m for m in marks if m.shape == "diamond")
        if row.spans or row.marks:
            rows.append(row)
    return rows
