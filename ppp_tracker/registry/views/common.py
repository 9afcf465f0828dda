"""What the registry's pages share: the blueprint, choices for forms, the history of changes,
saving a form through a service, and list pages kept per scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import (
    Blueprint,
    render_template,
)
from flask_babel import gettext as _
from flask_login import login_required

from ppp_tracker.auth.access import (
    Permission,
    acting_user,
    in_scope,
    require,
    scope,
)
from ppp_tracker.auth.models import Role, User
from ppp_tracker.core import versions
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.forms import save_form
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.registry import lists
from ppp_tracker.registry.models import (
    Institution,
    Party,
    Region,
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


@dataclass(frozen=True)
class HistoryEntry:
    """An audit event as the reader may see it: who, when, what and the changes."""

    at: object
    actor: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict


def history_of(*pairs: tuple[str, list]) -> list[HistoryEntry]:
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


def form_page(template: str, form, status_if_errors: int = 422, **context):
    status = status_if_errors if (form.errors or form.form_errors) else 200
    return render_template(template, form=form, **context), status


def edit_page(form, save, redirect_to, *, template: str = "registry/form.html", **context):
    """A record's form: a valid submission goes to `save` (the service, which reads the form's
    data) and on success to `redirect_to(record)`; otherwise the form with its errors."""
    if form.validate_on_submit():
        done = save_form(form, save, redirect_to, saved=_("Saved."))
        if done:
            return done
    return form_page(template, form, **context)


def list_page(name: str, title: str, context: Callable[[], dict]) -> str:
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
