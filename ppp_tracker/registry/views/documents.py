"""Attaching documents to projects, sites and contracts, and downloading them."""

from __future__ import annotations

import io

from flask import (
    flash,
    redirect,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from ppp_tracker.auth.access import (
    Permission,
    get_in_scope,
    require,
)
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.forms import (
    DocumentForm,
    blank_to_none,
)
from ppp_tracker.registry.models import (
    Contract,
    Document,
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.documents import add_document
from ppp_tracker.registry.views.common import bp

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
            add_document(
                user,
                owner=owner,
                document_type=form.document_type.data,
                title=blank_to_none(form.title.data),
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
