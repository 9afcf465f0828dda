"""Institutions and counterparties: saving them, and who may change a counterparty that several
regions share."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import Role, User
from ppp_tracker.core import limits
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.errors import Forbidden
from ppp_tracker.core.validation import Errors
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    InstitutionKind,
    PartyKind,
)
from ppp_tracker.registry.identifiers import bin_problem
from ppp_tracker.registry.models import (
    Contract,
    Institution,
    Party,
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.checks import (
    check_enum,
    check_int,
    check_region,
    check_texts,
    store,
)

#: A counterparty's texts and their longest lengths; the name is required.
PARTY_TEXTS = {
    "name": limits.NAME,
    "name_kk": limits.NAME,
    "email": limits.NAME,
    "phone": limits.CODE,
    "address": limits.LINE,
    "address_kk": limits.LINE,
    "head_position": limits.NAME,
    "head_position_kk": limits.NAME,
    "head_name": limits.NAME,
}


def save_institution(user: User, data: dict, institution: Institution | None = None) -> Institution:
    errors = Errors()
    partial = institution is not None
    values: dict[str, Any] = {}
    texts = {"name": limits.NAME, "address": limits.NAME}
    check_texts(errors, data, values, texts, required=("name",), partial=partial)
    if not partial or "kind" in data:
        values["kind"] = check_enum(errors, "kind", data.get("kind"), InstitutionKind)
    if not partial or "region" in data:
        values["region_code"] = check_region(errors, "region", data.get("region"), user)
    if "capacity" in data:
        values["capacity"] = check_int(
            errors, "capacity", data.get("capacity"), maximum=limits.HEADCOUNT
        )
    errors.raise_if_any()
    return store(institution, Institution, values)


def party_regions(party_id: int) -> set[str]:
    """The regions whose records use the party: contracts (customer or contractor), projects
    (investor) and production sites (operator)."""
    uses = sa.union(
        sa.select(Contract.region_code).where(
            sa.or_(Contract.customer_id == party_id, Contract.contractor_id == party_id)
        ),
        sa.select(Project.region_code).where(Project.investor_id == party_id),
        sa.select(ProductionSite.region_code).where(ProductionSite.operator_id == party_id),
    )
    return set(db.session.scalars(sa.select(uses.subquery().c[0])))


def created_by(user: User, entity_type: str, entity_id: int) -> bool:
    """Whether the audit log names `user` as the creator of the record."""
    return (
        db.session.scalar(
            sa.select(AuditEvent.id).where(
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id == str(entity_id),
                AuditEvent.action == "create",
                AuditEvent.actor_id == user.id,
            )
        )
        is not None
    )


def party_change_refusal(user: User, party: Party) -> str | None:
    """Why `user` may not change the counterparty, or None.

    A counterparty is shared by every region that uses it, and its name and requisites go into
    their letters: an administrator or a user of every region may change it; a regional user
    only one used by their own region's records alone, or one nobody uses yet that they created.
    """
    if user.region_code is None or Role(user.role) == Role.ADMIN:
        return None
    regions = party_regions(party.id)
    if regions - {user.region_code}:
        return _(
            "This counterparty is also used by contracts of other regions (%(regions)s): only an "
            "administrator or a user of all regions may change it.",
            regions=", ".join(sorted(regions - {user.region_code})),
        )
    if not regions and not created_by(user, "parties", party.id):
        return _(
            "This counterparty is not used by your region's records and was created by someone "
            "else: only an administrator or a user of all regions may change it."
        )
    return None


def check_party_change(user: User, party: Party) -> None:
    refusal = party_change_refusal(user, party)
    if refusal is not None:
        raise Forbidden(refusal)


def _check_bin(errors: Errors, raw, party: Party | None) -> str | None:
    """The BIN/IIN without spaces when it is valid and no other party has it."""
    if raw in (None, ""):
        return None
    raw = str(raw).strip().replace(" ", "")
    problem = bin_problem(raw)
    if problem == "must be exactly 12 digits":
        errors.add("bin", _("A BIN/IIN is exactly 12 digits."))
        return None
    if problem:
        errors.add("bin", _("This BIN/IIN is not valid: the control digit does not match."))
        return None
    clash = db.session.scalar(sa.select(Party.id).where(Party.bin == raw))
    if clash is not None and (party is None or clash != party.id):
        errors.add("bin", _("Another party (id %(id)s) has this BIN/IIN.", id=clash))
    return raw


def save_party(user: User, data: dict, party: Party | None = None) -> Party:
    if party is not None:
        check_party_change(user, party)
    errors = Errors()
    partial = party is not None
    values: dict[str, Any] = {}
    check_texts(errors, data, values, PARTY_TEXTS, required=("name",), partial=partial)
    if not partial or "kind" in data:
        values["kind"] = check_enum(errors, "kind", data.get("kind"), PartyKind)
    if "bin" in data:
        values["bin"] = _check_bin(errors, data.get("bin"), party)
    email = values.get("email")
    if email is not None and ("@" not in email or " " in email or email.startswith("@")):
        errors.add("email", _("Not a valid e-mail address."))
    if "region" in data:
        values["region_code"] = check_region(
            errors, "region", data.get("region"), user, required=False
        )
    errors.raise_if_any()
    return store(party, Party, values)


def contracts_of_party(user: User, party: Party) -> list[Contract]:
    """The contracts in the user's scope where the party is the customer or the contractor,
    the latest signed first."""
    stmt = scope(
        sa.select(Contract).where(
            sa.or_(Contract.customer_id == party.id, Contract.contractor_id == party.id)
        ),
        user,
        Contract.region_code,
    )
    return list(db.session.scalars(stmt.order_by(Contract.signed_on.desc())))
