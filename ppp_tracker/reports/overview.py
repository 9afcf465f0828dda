"""The dashboard's overview: per scope, the projects with the most overdue obligations, their
stages and their most telling milestones (overdue, then due soon, then the latest)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _

from ppp_tracker.core.calendar import WorkingCalendar
from ppp_tracker.core.dates import (
    OPEN_STATUSES,
    MilestoneState,
    days_late,
    days_late_phrase,
    milestone_state,
)
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone, Project, ProjectStage
from ppp_tracker.reports.charts import Mark, TimelineRow
from ppp_tracker.reports.figures import Dashboard, DeadlineRow, OverviewProject, OverviewStage
from ppp_tracker.reports.scopes import Scopes, effective, in_scope
from ppp_tracker.reports.timeline import stage_spans

#: Projects drawn on the dashboard's overview, those with the most overdue obligations first;
#: the timeline page draws them all.
OVERVIEW_PROJECTS = 12
#: Milestones drawn per project on the overview: overdue first, then due soon, then the latest.
OVERVIEW_MARKS = 40


def overview(
    as_of: date,
    horizon: date,
    calendar: WorkingCalendar,
    only: str | None,
    scopes: Scopes,
) -> dict[str, tuple[int, list[OverviewProject]]]:
    """Per scope key: (projects in scope, the projects drawn with their stages and marks)."""
    projects = db.session.execute(
        in_scope(
            sa.select(Project.id, Project.title, Project.region_code), Project.region_code, only
        )
    ).all()
    if not projects:
        return {}
    marks, overdue = _marks(as_of, horizon, calendar, only)
    stages = _stages([p.id for p in projects])
    out = {}
    for k in scopes.keys:
        mine = [p for p in projects if k in scopes.of(p.region_code)]
        chosen = sorted(mine, key=lambda p: (-overdue[p.id], p.region_code, p.title, p.id))
        drawn = []
        for p in chosen:
            if len(drawn) == OVERVIEW_PROJECTS:
                break
            if stages[p.id] or marks[p.id]:
                drawn.append(OverviewProject(p.id, p.title, stages[p.id], marks[p.id]))
        order = {p.id: (p.region_code, p.title, p.id) for p in mine}
        drawn.sort(key=lambda p: order[p.id])
        out[k] = (len(mine), drawn)
    return out


def _marks(
    as_of: date, horizon: date, calendar: WorkingCalendar, only: str | None
) -> tuple[dict[int, list[DeadlineRow]], dict[int, int]]:
    """Per project: its first OVERVIEW_MARKS milestones (ranked in the database), and how many
    of them are overdue."""
    eff = sa.func.coalesce(Milestone.effective_due_on, Milestone.due_on)
    is_open = Milestone.status.in_(list(OPEN_STATUSES))
    priority = sa.case(
        (sa.and_(is_open, eff < as_of), 0), (sa.and_(is_open, eff <= horizon), 1), else_=2
    )
    ranked = in_scope(
        sa.select(
            Contract.project_id,
            Milestone.id,
            Milestone.title,
            Milestone.due_on,
            Milestone.effective_due_on,
            Milestone.status,
            Milestone.met_on,
            Contract.id.label("contract_id"),
            Contract.number,
            priority.label("priority"),
            sa.func.row_number()
            .over(partition_by=Contract.project_id, order_by=(priority, eff.desc(), Milestone.id))
            .label("rank"),
        )
        .join(Contract, Milestone.contract_id == Contract.id)
        .where(Contract.project_id.is_not(None), Milestone.due_on.is_not(None)),
        Contract.region_code,
        only,
    ).subquery()
    marks: dict[int, list[DeadlineRow]] = defaultdict(list)
    overdue: dict[int, int] = defaultdict(int)
    for m in db.session.execute(
        sa.select(ranked).where(ranked.c.rank <= OVERVIEW_MARKS).order_by(ranked.c.rank)
    ):
        day = effective(calendar, m.due_on, m.effective_due_on)
        state = milestone_state(m.status, day, m.met_on, as_of)
        late = (
            days_late(day, as_of, m.met_on)
            if state in (MilestoneState.OVERDUE, MilestoneState.MET_LATE)
            else 0
        )
        marks[m.project_id].append(
            DeadlineRow(m.id, m.title, m.contract_id, m.number, day, state, late)
        )
        overdue[m.project_id] += state == MilestoneState.OVERDUE
    return marks, overdue


def _stages(project_ids: list[int]) -> dict[int, list[OverviewStage]]:
    stages: dict[int, list[OverviewStage]] = defaultdict(list)
    for s in db.session.execute(
        sa.select(
            ProjectStage.project_id,
            ProjectStage.kind,
            ProjectStage.position,
            ProjectStage.planned_on,
            ProjectStage.actual_on,
        ).where(ProjectStage.project_id.in_(project_ids))
    ):
        stages[s.project_id].append(OverviewStage(s.kind, s.position, s.planned_on, s.actual_on))
    return stages


def overview_rows(board: Dashboard, today: date) -> list[TimelineRow]:
    """The overview chart's rows: one per project, its stages side by side, milestones on top."""

    rows = []
    for project in board.overview:
        row = TimelineRow(
            project.title, "project", url_for("registry.project", project_id=project.id)
        )
        row.spans = [span for _stage, span in stage_spans(project, today)]
        for m in project.marks:
            label = f"№ {m.contract_number}: {m.title}"
            title = f"{label} · {_('due %(date)s', date=_d(m.effective_due_on))} · {m.state.label}"
            if m.days_late:
                title += " · " + days_late_phrase(m.days_late)
            row.marks.append(Mark(m.effective_due_on, "diamond", f"ms-{m.state.value}", title))
        if row.spans or row.marks:
            rows.append(row)
    return rows


def _d(day: date) -> str:
    return day.strftime("%d.%m.%Y")
