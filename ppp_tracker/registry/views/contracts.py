"""Pages of contracts and their installments; other features add panels to a contract's page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import (
    Permission,
    acting_user,
    get_in_scope,
    require,
    scope,
)
from ppp_tracker.auth.models import Role
from ppp_tracker.core.dates import milestone_timing
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.registry import lists
from ppp_tracker.registry.codes import (
    ContractStatus,
)
from ppp_tracker.registry.forms import (
    ContractForm,
    DocumentForm,
    InstallmentForm,
)
from ppp_tracker.registry.models import (
    Contract,
    Installment,
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.contracts import save_contract, save_installment
from ppp_tracker.registry.services.documents import documents_of
from ppp_tracker.registry.views.common import (
    bp,
    edit_page,
    history_of,
    list_page,
    officer_choices,
    party_choices,
    region_choices,
)


@bp.get("/contracts")
def contracts():
    return list_page(
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
    documents = documents_of(contract)
    history = history_of(
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


def contract_panels(contract: Contract) -> list:
    return [html for html in (panel(contract) for panel in CONTRACT_PANELS.values()) if html]


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
            form.fill(contract)
        else:
            form.project_id.data = request.args.get("project_id", type=int)
            form.site_id.data = request.args.get("site_id", type=int)
            form.officer.data = user.email if user.role == Role.OFFICER else ""
    return edit_page(
        form,
        lambda: save_contract(user, form.service_data(), contract),
        lambda obj: url_for("registry.contract", contract_id=obj.id),
        template="registry/contract_form.html",
        title=_("Contract"),
        cancel=(
            url_for("registry.contract", contract_id=contract.id)
            if contract
            else url_for("registry.contracts")
        ),
        contract=contract,
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
    return edit_page(
        form,
        lambda: save_installment(user, contract, form.service_data(), installment),
        lambda obj: url_for("registry.contract", contract_id=contract.id) + "#installments",
        title=_("Installment of contract No. %(n)s", n=contract.number),
        cancel=url_for("registry.contract", contract_id=contract.id),
    )
