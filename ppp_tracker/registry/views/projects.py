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
)
from ppp_tracker.registry.models import (
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.documents import documents_of
from ppp_tracker.registry.services.projects import save_project, save_site
from ppp_tracker.registry.views.common import (
    bp,
    edit_page,
    history_of,
    institution_choices,
    list_page,
    party_choices,
    region_choices,
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
    return edit_page(
        form,
        lambda: save_project(user, form.service_data(), project),
        lambda obj: url_for("registry.project", project_id=obj.id),
        title=_("Project"),
        cancel=(
            url_for("registry.project", project_id=project.id)
            if project
            else url_for("registry.projects")
        ),
    )


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
    return edit_page(
        form,
        lambda: save_project(user, form.service_data(), project),
        lambda obj: url_for("registry.project", project_id=project.id),
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
    return edit_page(
        form,
        lambda: save_site(user, form.service_data(), site),
        lambda obj: url_for("registry.site", site_id=obj.id),
        title=_("Production site"),
        cancel=url_for("registry.site", site_id=site.id) if site else url_for("registry.sites"),
    )
