"""Registry pages: lists, detail pages and forms for projects, sites, contracts and milestones."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required

from ppp_tracker import clock
from ppp_tracker.auth.access import (
    Permission,
    acting_user,
    get_in_scope,
    has_permission,
    in_scope,
    require,
    scope,
)
from ppp_tracker.auth.models import Role, User
from ppp_tracker.core import versions
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.dates import milestone_timing
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors
from ppp_tracker.core.regions import Region
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.registry import lists, services
from ppp_tracker.registry.codes import (
    Arrangement,
    ContractStatus,
    MilestoneStatus,
    PartyKind,
    ProjectKind,
    StageKind,
)
from ppp_tracker.registry.forms import (
    ConfirmForm,
    ContractForm,
    DocumentForm,
    InstallmentForm,
    InstitutionForm,
    MarkMetForm,
    MilestoneForm,
    PartyForm,
    ProjectForm,
    SiteForm,
    StageForm,
)
from ppp_tracker.registry.models import (
    Contract,
    Document,
    Installment,
    Institution,
    Milestone,
    Party,
    ProductionSite,
    Project,
)

bp = Blueprint("registry", __name__)


@bp.before_request
@login_required
def _logged_in():
    """Every registry page needs a logged-in user who may read."""
    require(Permission.READ)


# --- choices --------------------------------------------------------------------------------


def region_choices(*, blank: str | None = None) -> list[tuple[str, str]]:
    user = acting_user()
    stmt = scope(sa.select(Region).order_by(Region.name_ru), user, Region.code)
    rows = [(r.code, r.name(locale_code())) for r in db.session.scalars(stmt)]
    return ([("", blank)] if blank is not None else []) + rows


def institution_choices(*, blank: bool = True) -> list[tuple[int | None, str]]:
    stmt = scope(
        sa.select(Institution).order_by(Institution.name), acting_user(), Institution.region_code
    )
    rows = [(i.id, f"{i.name} ({i.region_code})") for i in db.session.scalars(stmt)]
    return ([(None, "—")] if blank else []) + rows


def party_choices(*, blank: bool = True) -> list[tuple[int | None, str]]:
    rows = db.session.execute(sa.select(Party.id, Party.name, Party.bin).order_by(Party.name)).all()
    return ([(None, "—")] if blank else []) + [
        (pid, f"{name} ({bin_})" if bin_ else name) for pid, name, bin_ in rows
    ]


def officer_choices(region_code: str | None = None) -> list[tuple[str, str]]:
    stmt = sa.select(User).where(User.active.is_(True)).order_by(User.name)
    if region_code:
        stmt = stmt.where(sa.or_(User.region_code.is_(None), User.region_code == region_code))
    stmt = stmt.where(User.role.in_([Role.OFFICER, Role.MANAGER, Role.ADMIN, Role.LEGAL]))
    return [("", "—")] + [(u.email, f"{u.name} <{u.email}>") for u in db.session.scalars(stmt)]


def _blank_to_none(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


@dataclass(frozen=True)
class HistoryEntry:
    """An audit event as the reader may see it: who, when, what and the changes."""

    at: object
    actor: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict


def _history(*pairs: tuple[str, list]) -> list[HistoryEntry]:
    """Audit events of the given (entity_type, ids) pairs, newest first, as the reader may see
    them: a regional reader sees a user of another region (a counterparty is shared by the
    regions that use it) only as such, not by name."""
    conditions = [
        sa.and_(AuditEvent.entity_type == entity, AuditEvent.entity_id.in_([str(i) for i in ids]))
        for entity, ids in pairs
        if ids
    ]
    if not conditions:
        return []
    rows = db.session.execute(
        sa.select(AuditEvent, User.region_code, User.id.is_not(None))
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(sa.or_(*conditions))
        .order_by(AuditEvent.at.desc())
        .limit(200)
    ).all()
    reader = acting_user()
    entries = []
    for event, actor_region, is_user in rows:
        actor = event.actor
        if is_user and reader is not None and not in_scope(reader, actor_region):
            actor = _("a user of another region")
        entries.append(
            HistoryEntry(
                event.at, actor, event.action, event.entity_type, event.entity_id, event.changes
            )
        )
    return entries


def _save(form, save, redirect_to, *, field_map=None):
    """Run a service with the form's data; commit and redirect, or show its errors in the form."""
    try:
        obj = save()
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        apply_errors(form, exc, field_map)
        return None
    flash(_("Saved."), "success")
    return redirect(redirect_to(obj))


def _form_page(template: str, form, status_if_errors: int = 422, **context):
    status = status_if_errors if (form.errors or form.form_errors) else 200
    return render_template(template, form=form, **context), status


# --- institutions ---------------------------------------------------------------------------


@bp.get("/institutions")
def institutions():
    listing = lists.institutions(acting_user())
    return render_template(
        "registry/institutions.html",
        listing=listing,
        regions=region_choices(blank=_("All regions")),
    )


@bp.route("/institutions/new", methods=["GET", "POST"])
@bp.route("/institutions/<id:institution_id>/edit", methods=["GET", "POST"])
def edit_institution(institution_id: int | None = None):
    user = require(Permission.EDIT_REGISTRY)
    institution = get_in_scope(Institution, institution_id) if institution_id else None
    form = InstitutionForm(obj=institution)
    form.region.choices = region_choices()
    if request.method == "GET" and institution is not None:
        form.region.data = institution.region_code
        form.kind.data = str(institution.kind)
    if form.validate_on_submit():
        data = {
            "name": form.name.data,
            "kind": form.kind.data,
            "region": form.region.data,
            "address": _blank_to_none(form.address.data),
            "capacity": form.capacity.data,
        }
        done = _save(
            form,
            lambda: services.save_institution(user, data, institution),
            lambda obj: url_for("registry.institutions"),
        )
        if done:
            return done
    return _form_page(
        "registry/form.html", form, title=_("Institution"), cancel=url_for("registry.institutions")
    )


# --- parties --------------------------------------------------------------------------------


def _list_page(name: str, title: str, context: Callable[[], dict]) -> str:
    """A registry list (`lists.LISTS[name]`) as a page. Its body — table, filters, pager, export
    links — is the same for every user of a scope and role until the registry changes: it is
    rendered once per (region, role, language, day, query string, data version) and kept
    (core.versions.scope_body); the layout around it is the user's own."""
    user = acting_user()

    def render() -> str:
        return render_template(
            f"registry/_{name}_body.html", listing=lists.LISTS[name](user), **context()
        )

    return render_template(
        "registry/list_page.html",
        title=title,
        body=versions.scope_body(user, f"registry.{name}", render),
    )


@bp.get("/parties")
def parties():
    return _list_page("parties", _("Counterparties"), lambda: {"kinds": PartyKind})


@bp.get("/parties/<id:party_id>")
def party(party_id: int):
    user = acting_user()
    party = db.session.get(Party, party_id) or abort(404)
    contracts = db.session.scalars(
        scope(
            sa.select(Contract).where(
                sa.or_(Contract.customer_id == party.id, Contract.contractor_id == party.id)
            ),
            user,
            Contract.region_code,
        ).order_by(Contract.signed_on.desc())
    ).all()
    return render_template(
        "registry/party.html",
        party=party,
        contracts=contracts,
        history=_history(("parties", [party.id])),
        may_edit=has_permission(user, Permission.EDIT_PARTIES)
        and services.party_change_refusal(user, party) is None,
    )


@bp.route("/parties/new", methods=["GET", "POST"])
@bp.route("/parties/<id:party_id>/edit", methods=["GET", "POST"])
def edit_party(party_id: int | None = None):
    user = require(Permission.EDIT_PARTIES)
    party = (db.session.get(Party, party_id) or abort(404)) if party_id else None
    if party is not None:
        refusal = services.party_change_refusal(user, party)
        if refusal is not None:
            abort(403, description=refusal)
    form = PartyForm(obj=party)
    form.region.choices = [("", "—"), *region_choices()]
    if request.method == "GET" and party is not None:
        form.region.data = party.region_code or ""
        form.kind.data = str(party.kind)
    if form.validate_on_submit():
        data = {
            name: _blank_to_none(form[name].data)
            for name in (
                "name",
                "name_kk",
                "kind",
                "bin",
                "email",
                "phone",
                "address",
                "address_kk",
                "head_position",
                "head_position_kk",
                "head_name",
                "region",
            )
        }
        done = _save(
            form,
            lambda: services.save_party(user, data, party),
            lambda obj: url_for("registry.party", party_id=obj.id),
        )
        if done:
            return done
    cancel = url_for("registry.party", party_id=party.id) if party else url_for("registry.parties")
    return _form_page("registry/form.html", form, title=_("Counterparty"), cancel=cancel)


# --- projects -------------------------------------------------------------------------------


@bp.get("/projects")
def projects():
    return _list_page(
        "projects",
        _("Projects"),
        lambda: {"kinds": ProjectKind, "regions": region_choices(blank=_("All regions"))},
    )


@bp.get("/projects/<id:project_id>")
def project(project_id: int):
    project = get_in_scope(Project, project_id)
    documents = db.session.scalars(
        sa.select(Document)
        .where(Document.project_id == project.id)
        .order_by(Document.uploaded_at.desc())
    ).all()
    stage_ids = [s.id for s in project.stages]
    return render_template(
        "registry/project.html",
        project=project,
        stages_by_kind={s.kind: s for s in project.stages},
        stage_kinds=list(StageKind),
        documents=documents,
        document_form=DocumentForm(),
        history=_history(("projects", [project.id]), ("project_stages", stage_ids)),
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
            "description": _blank_to_none(form.description.data),
        }
        done = _save(
            form,
            lambda: services.save_project(user, data, project),
            lambda obj: url_for("registry.project", project_id=obj.id),
        )
        if done:
            return done
    cancel = (
        url_for("registry.project", project_id=project.id)
        if project
        else url_for("registry.projects")
    )
    return _form_page("registry/form.html", form, title=_("Project"), cancel=cancel)


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
                    "note": _blank_to_none(form.note.data),
                }
            ]
        }
        done = _save(
            form,
            lambda: services.save_project(user, data, project),
            lambda obj: url_for("registry.project", project_id=project.id),
            field_map={
                "stages.0.planned_on": "planned_on",
                "stages.0.actual_on": "actual_on",
                "stages.0.note": "note",
            },
        )
        if done:
            return done
    return _form_page(
        "registry/form.html",
        form,
        title=f"{project.title}: {stage_kind.label}",
        cancel=url_for("registry.project", project_id=project.id),
    )


# --- production sites -----------------------------------------------------------------------


@bp.get("/sites")
def sites():
    return _list_page(
        "sites",
        _("Production sites"),
        lambda: {"arrangements": Arrangement, "regions": region_choices(blank=_("All regions"))},
    )


@bp.get("/sites/<id:site_id>")
def site(site_id: int):
    site = get_in_scope(ProductionSite, site_id)
    documents = db.session.scalars(
        sa.select(Document).where(Document.site_id == site.id).order_by(Document.uploaded_at.desc())
    ).all()
    return render_template(
        "registry/site.html",
        site=site,
        documents=documents,
        document_form=DocumentForm(),
        history=_history(("production_sites", [site.id])),
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
            "activity": _blank_to_none(form.activity.data),
            "area_m2": form.area_m2.data,
            "employed": form.employed.data or 0,
        }
        done = _save(
            form,
            lambda: services.save_site(user, data, site),
            lambda obj: url_for("registry.site", site_id=obj.id),
        )
        if done:
            return done
    cancel = url_for("registry.site", site_id=site.id) if site else url_for("registry.sites")
    return _form_page("registry/form.html", form, title=_("Production site"), cancel=cancel)


# --- contracts ------------------------------------------------------------------------------


@bp.get("/contracts")
def contracts():
    return _list_page(
        "contracts",
        _("Contracts"),
        lambda: {
            "statuses": ContractStatus,
            "regions": region_choices(blank=_("All regions")),
            "figures_of": lists.contract_figures,
        },
    )


@bp.get("/contracts/<id:contract_id>")
def contract(contract_id: int):
    contract = get_in_scope(Contract, contract_id)
    today = clock.today()
    locale = locale_code()
    milestones = [(m, milestone_timing(m, today, locale)) for m in contract.milestones]
    documents = db.session.scalars(
        sa.select(Document)
        .where(Document.contract_id == contract.id)
        .order_by(Document.uploaded_at.desc())
    ).all()
    history = _history(
        ("contracts", [contract.id]),
        ("milestones", [m.id for m, _t in milestones]),
        ("installments", [i.id for i in contract.installments]),
        ("documents", [d.id for d in documents]),
    )
    return render_template(
        "registry/contract.html",
        contract=contract,
        milestones=milestones,
        documents=documents,
        document_form=DocumentForm(),
        installment_form=InstallmentForm(),
        history=history,
        extra_panels=contract_panels(contract),
    )


#: Other features add panels (claims, cases…) to the contract page: name -> fn(contract) -> html.
CONTRACT_PANELS: dict = {}
#: Other features add panels (alert log…) to the milestone page: name -> fn(milestone) -> html.
MILESTONE_PANELS: dict = {}


def contract_panels(contract: Contract) -> list:
    return [html for html in (panel(contract) for panel in CONTRACT_PANELS.values()) if html]


def milestone_panels(milestone: Milestone) -> list:
    return [html for html in (panel(milestone) for panel in MILESTONE_PANELS.values()) if html]


def _contract_form_choices(form: ContractForm, contract: Contract | None) -> None:
    user = acting_user()
    form.customer_id.choices = party_choices()
    form.contractor_id.choices = party_choices()
    projects = db.session.scalars(
        scope(sa.select(Project).order_by(Project.title), user, Project.region_code)
    )
    form.project_id.choices = [(None, "—")] + [(p.id, p.title[:120]) for p in projects]
    sites = db.session.scalars(
        scope(
            sa.select(ProductionSite).order_by(ProductionSite.name),
            user,
            ProductionSite.region_code,
        )
    )
    form.site_id.choices = [(None, "—")] + [(s.id, s.name[:120]) for s in sites]
    form.officer.choices = officer_choices(contract.region_code if contract else user.region_code)


@bp.route("/contracts/new", methods=["GET", "POST"])
@bp.route("/contracts/<id:contract_id>/edit", methods=["GET", "POST"])
def edit_contract(contract_id: int | None = None):
    user = require(Permission.EDIT_REGISTRY)
    contract = get_in_scope(Contract, contract_id) if contract_id else None
    form = ContractForm(obj=contract)
    _contract_form_choices(form, contract)
    if request.method == "GET":
        if contract is not None:
            form.status.data = str(contract.status)
            form.penalty_rate.data = contract.penalty_rate_percent
            form.penalty_base.data = str(contract.penalty_base)
            form.penalty_cap.data = contract.penalty_cap_percent
            form.response_days.data = contract.response_days
            form.response_working.data = contract.response_working
            form.response_from_receipt.data = contract.response_from_receipt
            form.officer.data = contract.officer.email if contract.officer else ""
        else:
            form.project_id.data = request.args.get("project_id", type=int)
            form.site_id.data = request.args.get("site_id", type=int)
            form.officer.data = user.email if user.role == Role.OFFICER else ""
    if form.validate_on_submit():
        data = {
            "number": form.number.data,
            "signed_on": form.signed_on.data,
            "customer_id": form.customer_id.data,
            "contractor_id": form.contractor_id.data,
            "project_id": form.project_id.data,
            "site_id": form.site_id.data,
            "subject": form.subject.data,
            "subject_kk": _blank_to_none(form.subject_kk.data),
            "total_amount": form.total_amount.data,
            "starts_on": form.starts_on.data,
            "ends_on": form.ends_on.data,
            "status": form.status.data,
            "officer": form.officer.data or None,
            "penalty": {
                "rate_percent_per_day": form.penalty_rate.data,
                "base": form.penalty_base.data,
                "cap_percent": form.penalty_cap.data,
            },
            "penalty_clause_no": _blank_to_none(form.penalty_clause_no.data),
            "penalty_clause": _blank_to_none(form.penalty_clause.data),
            "penalty_clause_kk": _blank_to_none(form.penalty_clause_kk.data),
            "response_period": {
                "days": form.response_days.data,
                "working": form.response_working.data,
                "from_receipt": form.response_from_receipt.data,
            },
            "grace_working_days": form.grace_working_days.data
            if form.grace_working_days.data is not None
            else 1,
        }
        done = _save(
            form,
            lambda: services.save_contract(user, data, contract),
            lambda obj: url_for("registry.contract", contract_id=obj.id),
        )
        if done:
            return done
    cancel = (
        url_for("registry.contract", contract_id=contract.id)
        if contract
        else url_for("registry.contracts")
    )
    return _form_page(
        "registry/contract_form.html", form, title=_("Contract"), cancel=cancel, contract=contract
    )


@bp.route("/contracts/<id:contract_id>/installments/new", methods=["GET", "POST"])
@bp.route(
    "/contracts/<id:contract_id>/installments/<id:installment_id>/edit", methods=["GET", "POST"]
)
def edit_installment(contract_id: int, installment_id: int | None = None):
    user = require(Permission.EDIT_REGISTRY)
    contract = get_in_scope(Contract, contract_id)
    installment = None
    if installment_id:
        installment = db.session.get(Installment, installment_id)
        if installment is None or installment.contract_id != contract.id:
            abort(404)
    form = InstallmentForm(obj=installment)
    if form.validate_on_submit():
        data = {
            "due_on": form.due_on.data,
            "amount": form.amount.data,
            "description": _blank_to_none(form.description.data),
            "paid_on": form.paid_on.data,
            "paid_amount": form.paid_amount.data,
        }
        done = _save(
            form,
            lambda: services.save_installment(user, contract, data, installment),
            lambda obj: url_for("registry.contract", contract_id=contract.id) + "#installments",
        )
        if done:
            return done
    return _form_page(
        "registry/form.html",
        form,
        title=_("Installment of contract No. %(n)s", n=contract.number),
        cancel=url_for("registry.contract", contract_id=contract.id),
    )


# --- milestones -----------------------------------------------------------------------------


@bp.get("/milestones/<id:milestone_id>")
def milestone(milestone_id: int):
    milestone = get_in_scope(Milestone, milestone_id)
    return render_template(
        "registry/milestone.html",
        milestone=milestone,
        timing=milestone_timing(milestone, clock.today(), locale_code()),
        met_form=MarkMetForm(met_on=clock.today()),
        history=_history(("milestones", [milestone.id])),
        extra_panels=milestone_panels(milestone),
    )


def _claim_choices(contract: Contract) -> list[tuple[int, str]]:
    """The contract's claims, for dates that count from a claim's sending."""
    Claim = Milestone.claim_class()

    claims = db.session.scalars(
        sa.select(Claim).where(Claim.contract_id == contract.id).order_by(Claim.sequence, Claim.id)
    )
    return [
        (
            c.id,
            _("Claim %(seq)s, No. %(n)s", seq=c.sequence, n=c.outgoing_number)
            if c.outgoing_number
            else _("Claim %(seq)s (not sent yet)", seq=c.sequence),
        )
        for c in claims
    ]


@bp.route("/contracts/<id:contract_id>/milestones/new", methods=["GET", "POST"])
@bp.route("/milestones/<id:milestone_id>/edit", methods=["GET", "POST"])
def edit_milestone(contract_id: int | None = None, milestone_id: int | None = None):
    user = require(Permission.EDIT_REGISTRY)
    milestone = get_in_scope(Milestone, milestone_id) if milestone_id else None
    contract = milestone.contract if milestone else get_in_scope(Contract, contract_id)
    form = MilestoneForm(obj=milestone)
    form.responsible.choices = officer_choices(contract.region_code)
    form.relative_to.choices = [(None, "—")] + [
        (m.id, m.title[:100])
        for m in contract.milestones
        if milestone is None or m.id != milestone.id
    ]
    form.relative_to_claim.choices = [(None, "—"), *_claim_choices(contract)]
    if request.method == "GET":
        if milestone is not None:
            form.relative_to_claim.data = milestone.relative_to_claim_id
            form.type.data = str(milestone.type)
            form.obligor.data = str(milestone.obligor)
            form.status.data = str(milestone.status)
            form.responsible.data = milestone.responsible.email if milestone.responsible else ""
            form.relative_to.data = milestone.relative_to_id
            form.relative_unit.data = (
                str(milestone.relative_unit) if milestone.relative_unit else ""
            )
        else:
            form.responsible.data = contract.officer.email if contract.officer else ""
    if form.validate_on_submit():
        data = {
            "title": form.title.data,
            "title_kk": _blank_to_none(form.title_kk.data),
            "type": form.type.data,
            "obligor": form.obligor.data,
            "code": _blank_to_none(form.code.data),
            "responsible": form.responsible.data or None,
            "value": form.value.data,
            "status": form.status.data,
            "met_on": form.met_on.data,
            "status_note": _blank_to_none(form.status_note.data),
            "description": _blank_to_none(form.description.data),
            "reason": _blank_to_none(form.reason.data),
        }
        if form.relative_to.data:
            data["relative"] = {
                "milestone_id": form.relative_to.data,
                "amount": form.relative_amount.data,
                "unit": form.relative_unit.data or None,
            }
        elif form.relative_to_claim.data:
            data["relative"] = {
                "claim_id": form.relative_to_claim.data,
                "amount": form.relative_amount.data,
                "unit": form.relative_unit.data or None,
            }
        else:
            if milestone is not None and milestone.is_relative:
                data["relative"] = None
            data["due_on"] = form.due_on.data
        done = _save(
            form,
            lambda: services.save_milestone(user, contract, data, milestone),
            lambda obj: url_for("registry.contract", contract_id=contract.id) + "#milestones",
        )
        if done:
            return done
    cancel = (
        url_for("registry.milestone", milestone_id=milestone.id)
        if milestone
        else url_for("registry.contract", contract_id=contract.id)
    )
    return _form_page(
        "registry/milestone_form.html",
        form,
        title=_("Milestone of contract No. %(n)s", n=contract.number),
        cancel=cancel,
        milestone=milestone,
    )


#: Milestones marked met in one go at most (a page of the deadlines list is 25–100).
BULK_AT_MOST = 200


def _bulk_selection(user, source) -> tuple[list[Milestone], date | None, bool]:
    """The milestones chosen in `source` (ids) that the user may change, in due order, the
    date of performance asked for, and whether the date was given but unreadable."""
    ids = []
    for value in source.getlist("ids"):
        value = value.strip()
        if value.isdigit() and len(value) < 10:
            ids.append(int(value))
    ids = sorted(set(ids))[:BULK_AT_MOST]
    stmt = scope(
        sa.select(Milestone).join(Contract, Milestone.contract_id == Contract.id),
        user,
        Contract.region_code,
    ).where(Milestone.id.in_(ids))
    milestones = db.session.scalars(stmt.order_by(Milestone.due_on, Milestone.id)).all()
    raw = (source.get("met_on") or "").strip()
    try:
        met_on = date.fromisoformat(raw) if raw else None
    except ValueError:
        met_on = None
    return list(milestones), met_on, bool(raw) and met_on is None


@bp.route("/milestones/bulk-met", methods=["GET", "POST"])
def bulk_met():
    """Several milestones marked met with one date: the deadlines page's selection is shown
    for confirmation (GET), then each is marked as on its own page (POST, one audit entry per
    milestone, all or nothing)."""
    user = require(Permission.EDIT_REGISTRY)
    source = request.form if request.method == "POST" else request.args
    milestones, met_on, bad_date = _bulk_selection(user, source)
    form = ConfirmForm()
    errors: list[str] = []
    status = 200
    if bad_date:
        errors.append(_("This is not a date."))
    elif met_on is None:
        errors.append(_("Say on which day the obligations were performed."))
    elif met_on > clock.today():
        errors.append(_("The date of performance cannot be in the future."))
    already = [m for m in milestones if m.status == MilestoneStatus.MET]
    to_mark = [m for m in milestones if m.status != MilestoneStatus.MET]
    if not to_mark:
        errors.append(_("Select the obligations to mark as met on the deadlines page."))
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if not errors:
            try:
                for milestone in to_mark:
                    services.mark_met(user, milestone, met_on, None)
                db.session.commit()
            except Invalid as exc:
                db.session.rollback()
                errors.extend(m for messages in exc.errors.values() for m in messages)
                milestones, met_on, _bad = _bulk_selection(user, source)
                already = [m for m in milestones if m.status == MilestoneStatus.MET]
                to_mark = [m for m in milestones if m.status != MilestoneStatus.MET]
            else:
                flash(
                    ngettext(
                        "%(num)d obligation marked as met on %(date)s.",
                        "%(num)d obligations marked as met on %(date)s.",
                        len(to_mark),
                        date=met_on.strftime("%d.%m.%Y"),
                    ),
                    "success",
                )
                return redirect(url_for("reports.deadlines"))
        status = 422
    elif errors and milestones:
        status = 422
    return render_template(
        "registry/bulk_met.html",
        form=form,
        to_mark=to_mark,
        already=already,
        met_on=met_on,
        errors=errors,
        today=clock.today(),
    ), status


@bp.post("/milestones/<id:milestone_id>/met")
def mark_met(milestone_id: int):
    user = require(Permission.EDIT_REGISTRY)
    milestone = get_in_scope(Milestone, milestone_id)
    form = MarkMetForm()
    if form.validate_on_submit():
        try:
            services.mark_met(user, milestone, form.met_on.data, _blank_to_none(form.note.data))
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("The milestone is marked as met."), "success")
            return redirect(url_for("registry.milestone", milestone_id=milestone.id))
    return render_template(
        "registry/milestone.html",
        milestone=milestone,
        timing=milestone_timing(milestone, clock.today(), locale_code()),
        met_form=form,
        history=_history(("milestones", [milestone.id])),
        extra_panels=[],
    ), 422


# --- documents ------------------------------------------------------------------------------

_OWNERS = {"projects": Project, "sites": ProductionSite, "contracts": Contract}
_OWNER_PAGES = {
    "projects": ("registry.project", "project_id"),
    "sites": ("registry.site", "site_id"),
    "contracts": ("registry.contract", "contract_id"),
}


@bp.post("/<any(projects, sites, contracts):owner_kind>/<id:owner_id>/documents")
def upload_document(owner_kind: str, owner_id: int):
    user = require(Permission.EDIT_REGISTRY)
    owner = get_in_scope(_OWNERS[owner_kind], owner_id)
    endpoint, arg = _OWNER_PAGES[owner_kind]
    form = DocumentForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            services.add_document(
                user,
                owner=owner,
                document_type=form.document_type.data,
                title=_blank_to_none(form.title.data),
                filename=upload.filename or "",
                content=upload.read(),
            )
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            for messages in exc.errors.values():
                for message in messages:
                    flash(message, "danger")
        else:
            flash(_("The document is attached."), "success")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "danger")
    return redirect(url_for(endpoint, **{arg: owner.id}) + "#documents")


@bp.get("/documents/<id:document_id>")
def download_document(document_id: int):
    document = get_in_scope(Document, document_id)
    return send_file(
        io.BytesIO(document.content),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
    )
