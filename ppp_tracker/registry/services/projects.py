"""Projects with their stages, and production sites."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.models import User
from ppp_tracker.core import limits
from ppp_tracker.core.validation import (
    Errors,
    check_text,
)
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    Arrangement,
    ProjectKind,
    ProjectStatus,
    SiteStatus,
    StageKind,
)
from ppp_tracker.registry.models import (
    Institution,
    Party,
    ProductionSite,
    Project,
    ProjectStage,
)
from ppp_tracker.registry.services.checks import (
    check_date,
    check_decimal,
    check_enum,
    check_enums,
    check_int,
    check_linked,
    check_money,
    check_region,
    check_texts,
    set_values,
    store,
)


def save_project(user: User, data: dict, project: Project | None = None) -> Project:
    errors = Errors()
    partial = project is not None
    values: dict[str, Any] = {}
    texts = {"title": limits.LINE, "title_kk": limits.LINE, "description": limits.TEXT}
    check_texts(errors, data, values, texts, required=("title",), partial=partial)
    enums = {"kind": ProjectKind, "status": ProjectStatus}
    check_enums(errors, data, values, enums, required=("kind",), partial=partial)
    if not partial or "region" in data:
        values["region_code"] = check_region(errors, "region", data.get("region"), user)
    region = values.get("region_code") or (project.region_code if project else None)
    if "institution" in data:
        inst = check_linked(errors, "institution", Institution, data.get("institution"), user)
        if inst is not None and region is not None and inst.region_code != region:
            errors.add("institution", _("The institution is in another region."))
        values["institution_id"] = inst.id if inst else None
    if "investor_id" in data:
        investor = check_linked(errors, "investor_id", Party, data.get("investor_id"), user)
        values["investor_id"] = investor.id if investor else None
    if "capacity" in data:
        values["capacity"] = check_int(
            errors, "capacity", data.get("capacity"), minimum=1, maximum=limits.HEADCOUNT
        )
    if "land_area_ha" in data:
        values["land_area_ha"] = check_decimal(
            errors, "land_area_ha", data.get("land_area_ha"), maximum=Decimal(1_000_000)
        )
    if "estimated_cost" in data:
        values["estimated_cost"] = check_money(errors, "estimated_cost", data.get("estimated_cost"))
    if "term_years" in data:
        values["term_years"] = check_int(
            errors, "term_years", data.get("term_years"), minimum=1, maximum=limits.TERM_YEARS
        )
    stages = None
    if "stages" in data and data["stages"] is not None:
        stages = _check_stages(errors, data["stages"])
    errors.raise_if_any()
    if project is None:
        project = Project()
        db.session.add(project)
    set_values(project, values)
    if stages is not None:
        for item in stages:
            set_stage(project, **item)
    db.session.flush()
    return project


def _check_stages(errors: Errors, items) -> list[dict]:
    if not isinstance(items, list):
        errors.add("stages", _("Must be a list of stages."))
        return []
    seen = set()
    out = []
    for index, item in enumerate(items):
        field = f"stages.{index}"
        if not isinstance(item, dict):
            errors.add(field, _("Must be an object."))
            continue
        before = len(errors.errors)
        kind = check_enum(errors, f"{field}.kind", item.get("kind"), StageKind)
        planned = check_date(errors, f"{field}.planned_on", item.get("planned_on"))
        actual = check_date(errors, f"{field}.actual_on", item.get("actual_on"))
        note = check_text(errors, f"{field}.note", item.get("note"), max_length=limits.NOTE)
        if kind in seen:
            errors.add(f"{field}.kind", _("This stage is listed twice."))
        seen.add(kind)
        if actual is not None and actual > clock.today():
            errors.add(f"{field}.actual_on", _("An actual date cannot be in the future."))
        if len(errors.errors) == before and kind is not None:
            out.append({"kind": kind, "planned_on": planned, "actual_on": actual, "note": note})
    return out


def set_stage(
    project: Project,
    kind: StageKind,
    planned_on: date | None = None,
    actual_on: date | None = None,
    note: str | None = None,
) -> ProjectStage:
    kind = StageKind(kind)
    stage = next((s for s in project.stages if s.kind == kind), None)
    if stage is None:
        stage = ProjectStage(kind=kind, position=kind.order)
        project.stages.append(stage)
    stage.planned_on = planned_on
    stage.actual_on = actual_on
    stage.note = note
    return stage


# --- production sites ---------------------------------------------------------------------


def save_site(user: User, data: dict, site: ProductionSite | None = None) -> ProductionSite:
    errors = Errors()
    partial = site is not None
    values: dict[str, Any] = {}
    texts = {"name": limits.NAME, "activity": limits.NAME}
    check_texts(errors, data, values, texts, required=("name",), partial=partial)
    enums = {"arrangement": Arrangement, "status": SiteStatus}
    check_enums(errors, data, values, enums, required=("arrangement",), partial=partial)
    if not partial or "institution" in data:
        inst = check_linked(
            errors, "institution", Institution, data.get("institution"), user, required=True
        )
        if inst is not None:
            values["institution_id"] = inst.id
            values["region_code"] = inst.region_code
            if data.get("region") not in (None, "", inst.region_code):
                errors.add(
                    "region",
                    _("The region follows from the institution (%(code)s).", code=inst.region_code),
                )
    elif data.get("region") not in (None, "", site.region_code):
        errors.add(
            "region",
            _("The region follows from the institution (%(code)s).", code=site.region_code),
        )
    if "operator_id" in data:
        operator = check_linked(errors, "operator_id", Party, data.get("operator_id"), user)
        values["operator_id"] = operator.id if operator else None
    if "area_m2" in data:
        values["area_m2"] = check_decimal(
            errors, "area_m2", data.get("area_m2"), maximum=Decimal(10**7), places=2
        )
    if not partial or "employed" in data:
        employed = data.get("employed", 0)
        values["employed"] = check_int(
            errors, "employed", 0 if employed is None else employed, maximum=limits.HEADCOUNT
        )
    errors.raise_if_any()
    return store(site, ProductionSite, values)
