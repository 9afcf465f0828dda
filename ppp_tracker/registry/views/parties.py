"""Pages of institutions and counterparties."""

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
    acting_user,
    get_in_scope,
    has_permission,
    require,
)
from ppp_tracker.db import db
from ppp_tracker.registry import lists
from ppp_tracker.registry.codes import (
    PartyKind,
)
from ppp_tracker.registry.forms import (
    InstitutionForm,
    PartyForm,
)
from ppp_tracker.registry.models import (
    Institution,
    Party,
)
from ppp_tracker.registry.services.parties import (
    contracts_of_party,
    party_change_refusal,
    save_institution,
    save_party,
)
from ppp_tracker.registry.views.common import (
    bp,
    edit_page,
    history_of,
    list_page,
    region_choices,
)


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
    return edit_page(
        form,
        lambda: save_institution(user, form.service_data(), institution),
        lambda obj: url_for("registry.institutions"),
        title=_("Institution"),
        cancel=url_for("registry.institutions"),
    )


@bp.get("/parties")
def parties():
    return list_page("parties", _("Counterparties"), lambda: {"kinds": PartyKind})


@bp.get("/parties/<id:party_id>")
def party(party_id: int):
    user = acting_user()
    party = db.session.get(Party, party_id) or abort(404)
    contracts = contracts_of_party(user, party)
    return render_template(
        "registry/party.html",
        party=party,
        contracts=contracts,
        history=history_of(("parties", [party.id])),
        may_edit=has_permission(user, Permission.EDIT_PARTIES)
        and party_change_refusal(user, party) is None,
    )


@bp.route("/parties/new", methods=["GET", "POST"])
@bp.route("/parties/<id:party_id>/edit", methods=["GET", "POST"])
def edit_party(party_id: int | None = None):
    user = require(Permission.EDIT_PARTIES)
    party = (db.session.get(Party, party_id) or abort(404)) if party_id else None
    if party is not None:
        refusal = party_change_refusal(user, party)
        if refusal is not None:
            abort(403, description=refusal)
    form = PartyForm(obj=party)
    form.region.choices = [("", "—"), *region_choices()]
    if request.method == "GET" and party is not None:
        form.region.data = party.region_code or ""
        form.kind.data = str(party.kind)
    return edit_page(
        form,
        lambda: save_party(user, form.service_data(), party),
        lambda obj: url_for("registry.party", party_id=obj.id),
        title=_("Counterparty"),
        cancel=url_for("registry.party", party_id=party.id)
        if party
        else url_for("registry.parties"),
    )
