"""Pages of projects (with their stages) and production sites."""

from __future__ import annotations

from flask import (
    abort,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ppp_tracker.auth.access import (
    Permission,
    get_in_scope,
    require,
)
from ppp_tracker.registry.codes import (
    Arrangement,
    ProjectKind,
    StageKind,
)
from ppp_tracker.registry.forms import (
    DocumentForm,
    ProjectForm,
    SiteForm,
    StageForm,
    blank_to_none,
)
from ppp_tracker.registry.models import (
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.documents import documents_of
from ppp_tracker.registry.services.projects import save_project, save_site
from ppp_tracker.registry.views.common import (
    bp,
    form_page,
    history_of,
    institution_choices,
    list_page,
    party_choices,
    region_choices,
    save_form,
)


@bp.get("/projects")
def projects():
    return list_page(
        "projects",
        _("Projects"),
        lambda: {"kinds": ProjectKind, "regions": region_choices(blank=_("All regions"))},
    )


@bp.get("/projects/<id:project_id>")
def project(project_id: int):
    project = get_in_scope(Project, project_id)
    documents = documents_of(project)
    stage_ids = [s.id for s in project.stages]
    return render_template(
        "registry/project.html",
        project=project,
        stages_by_kind={s.kind: s for s in project.stages},
        stage_kinds=list(StageKind),
        documents=documents,
        document_form=DocumentForm(),
        history=history_of(("projects", [project.id]), ("project_stages", stage_ids)),
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@bp.route("/projects/<id:project_id>/edit", methods=["GET", "POST"])
def edit_project(project_id: int | None = None):
    user = require(Permission.EDIT_REGISTRY)
    project = get_in_scope(Project, project_id) if project_id else None
    form = ProjectForm(obj=project)
    form.region.choices = region_choices()
    form.institution.choices = institution_choices()
    form.investor_id.choices = party_choices()
    if request.method == "GET" and project is not None:
        form.region.data = project.region_code
        form.institution.data = project.institution_id
        form.kind.data = str(project.kind)
        form.status.data = str(project.status)
    if form.validate_on_submit():
        data = {
            "title": form.title.data,
            "kind": form.kind.data,
            "status": form.status.data,
            "region": form.region.data,
            "institution": form.institution.data,
            "investor_id": form.investor_id.data,
            "capacity": form.capacity.data,
            "land_area_ha": form.land_area_ha.data,
            "estimated_cost": form.estimated_cost.data,
            "term_years": form.term_years.data,
            "description": blank_to_none(form.description.data),
        }
        done = save_form(
            form,
            lambda: save_project(user, data, project),
            lambda obj: url_for("registry.project", project_id=obj.id),
        )
        if done:
            return done
    cancel = (
        url_for("registry.project", project_id=project.id)
        if project
        else url_for("registry.projects")
    )
    return form_page("registry/form.html", form, title=_("Project"), cancel=cancel)


@bp.route("/projects/<id:project_id>/stages/<kind>", methods=["GET", "POST"])
def edit_stage(project_id: int, kind: str):
    user = require(Permission.EDIT_REGISTRY)
    project = get_in_scope(Project, project_id)
    try:
        stage_kind = StageKind(kind)
    except ValueError:
        abort(404)
    stage = next((s for s in project.stages if s.kind == stage_kind), None)
    form = StageForm(obj=stage)
    form.kind.data = stage_kind.value
    if form.validate_on_submit():
        data = {
            "stages": [
                {
                    "kind": stage_kind.value,
                    "planned_on": form.planned_on.data,
                    "actual_on": form.actual_on.data,
                    "note": blank_to_none(form.note.data),
                }
            ]
        }
        done = save_form(
            form,
            lambda: save_project(user, data, project),
            lambda obj: url_for("registry.project", project_id=project.id),
            field_map={
                "stages.0.planned_on": "planned_on",
                "stages.0.actual_on": "actual_on",
                "stages.0.note": "note",
            },
        )
        if done:
            return done
    return form_page(
        "registry/form.html",
        form,
        title=f"{project.title}: {stage_kind.label}",
        cancel=url_for("registry.project", project_id=project.id),
    )


# --- production sites -----------------------------------------------------------------------


@bp.get("/sites")
def sites():
    return list_page(
        "sites",
        _("Production sites"),
        lambda: {"arrangements": Arrangement, "regions": region_choices(blank=_("All regions"))},
    )


@bp.get("/sites/<id:site_id>")
def site(site_id: int):
    site = get_in_scope(ProductionSite, site_id)
    documents = documents_of(site)
    return render_template(
        "registry/site.html",
        site=site,
        documents=documents,
        document_form=DocumentForm(),
        history=history_of(("production_sites", [site.id])),
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@bp.route("/sites/<id:site_id>/edit", methods=["GET", "POST"])
def edit_site(site_id: int | None = None):
    user = require(Permission.EDIT_REGISTRY)
    site = get_in_scope(ProductionSite, site_id) if site_id else None
    form = SiteForm(obj=site)
    form.institution.choices = institution_choices()
    form.operator_id.choices = party_choices()
    if request.method == "GET" and site is not None:
        form.institution.data = site.institution_id
        form.arrangement.data = str(site.arrangement)
        form.status.data = str(site.status)
    if form.validate_on_submit():
        data = {
            "name": form.name.data,
            "arrangement": form.arrangement.data,
            "status": form.status.data,
            "institution": form.institution.data,
            "operator_id": form.operator_id.data,
            "activity": blank_to_none(form.activity.data),
            "area_m2": form.area_m2.data,
            "employed": form.employed.data or 0,
        }
        done = save_form(
            form,
            lambda: save_site(user, data, site),
            lambda obj: url_for("registry.site", site_id=obj.id),
        )
        if done:
            return done
    cancel = url_for("registry.site", site_id=site.id) if site else url_for("registry.sites")
    return form_page("registry/form.html", form, title=_("Production site"), cancel=cancel)
