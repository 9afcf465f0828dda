"""Milestones: saving them (a change of the due date is kept with its reason), dates counted from
another milestone or from a claim's sending, and marking them met."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core import limits
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import relative_due, relative_phrase
from ppp_tracker.core.validation import (
    Errors,
    check_text,
)
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    MilestoneStatus,
    MilestoneType,
    Obligor,
    RelativeUnit,
)
from ppp_tracker.registry.models import (
    Contract,
    DueDateChange,
    Milestone,
)
from ppp_tracker.registry.services.checks import (
    check_date,
    check_enum,
    check_enums,
    check_int,
    check_linked,
    check_money,
    check_texts,
    check_user_email,
    set_values,
)


def _would_cycle(milestone: Milestone | None, anchor: Milestone) -> bool:
    seen = set()
    node: Milestone | None = anchor
    while node is not None:
        if milestone is not None and node.id == milestone.id:
            return True
        if node.id in seen:
            return True
        seen.add(node.id)
        node = node.relative_to
    return False


def save_milestone(
    user: User, contract: Contract, data: dict, milestone: Milestone | None = None
) -> Milestone:
    """Create or change a milestone; a change of `due_on` needs a `reason` and is kept."""
    errors = Errors()
    values = _milestone_fields(errors, contract, data, milestone)
    anchor = _relative_fields(errors, user, contract, data, milestone, values)
    reason = _due_date_fields(errors, data, milestone, anchor, values)
    _status_fields(errors, data, milestone, values)
    errors.raise_if_any()
    return _store_milestone(user, contract, milestone, values, anchor, reason)


def _milestone_fields(
    errors: Errors, contract: Contract, data: dict, milestone: Milestone | None
) -> dict[str, Any]:
    """The milestone's own fields: title, type, description, code, obligor, value, responsible."""
    partial = milestone is not None
    values: dict[str, Any] = {}
    texts = {
        "title": limits.LINE,
        "title_kk": limits.LINE,
        "description": limits.TEXT,
        "code": limits.CODE,
    }
    check_texts(errors, data, values, texts, required=("title",), partial=partial)
    enums = {"type": MilestoneType, "obligor": Obligor}
    check_enums(errors, data, values, enums, required=("type",), partial=partial)
    if "value" in data:
        values["value"] = check_money(errors, "value", data.get("value"))
        if values["value"] is not None and values["value"] > contract.total_amount:
            errors.add("value", _("The value must not exceed the contract total."))
    if "responsible" in data:
        responsible = check_user_email(
            errors, "responsible", data.get("responsible"), contract.region_code
        )
        values["responsible_id"] = responsible.id if responsible else None
    elif not partial:
        values["responsible_id"] = contract.officer_id
    return values


def _relative_fields(
    errors: Errors,
    user: User,
    contract: Contract,
    data: dict,
    milestone: Milestone | None,
    values: dict[str, Any],
):
    """The milestone or claim that `data["relative"]` counts the date from (None when the date
    is not relative or the anchor is wrong); the period goes into `values`."""
    if "relative" not in data:
        return None
    relative = data["relative"]
    if relative is None:
        values.update(
            relative_to_id=None, relative_to_claim_id=None, relative_amount=None, relative_unit=None
        )
        return None
    if not isinstance(relative, dict):
        errors.add("relative", _("Must be an object with milestone_id, amount and unit."))
        return None
    from_claim = relative.get("claim_id") is not None
    if from_claim:
        anchor = _claim_anchor(errors, relative, contract)
    else:
        anchor = _milestone_anchor(errors, user, relative, contract, milestone)
    amount = check_int(
        errors, "relative.amount", relative.get("amount"), maximum=limits.OFFSET_DAYS, required=True
    )
    unit = check_enum(errors, "relative.unit", relative.get("unit"), RelativeUnit)
    if anchor is not None:
        values.update(
            relative_to_id=None if from_claim else anchor.id,
            relative_to_claim_id=anchor.id if from_claim else None,
            relative_amount=amount,
            relative_unit=unit,
        )
    return anchor


def _milestone_anchor(
    errors: Errors, user: User, relative: dict, contract: Contract, milestone: Milestone | None
) -> Milestone | None:
    """A milestone of the same contract, not counted from this one, whose meeting starts the
    count."""
    anchor = check_linked(
        errors,
        "relative.milestone_id",
        Milestone,
        relative.get("milestone_id"),
        user,
        required=True,
    )
    if anchor is not None and anchor.contract_id != contract.id:
        errors.add("relative.milestone_id", _("The milestone must belong to the same contract."))
        return None
    if anchor is not None and _would_cycle(milestone, anchor):
        errors.add(
            "relative.milestone_id",
            _("This would make the dates depend on each other in a circle."),
        )
        return None
    return anchor


def _due_date_fields(
    errors: Errors, data: dict, milestone: Milestone | None, anchor, values: dict[str, Any]
) -> str | None:
    """The due date (given, or taken from the anchor) and the reason for changing it."""
    partial = milestone is not None
    due_given = "due_on" in data
    if due_given:
        values["due_on"] = check_date(errors, "due_on", data.get("due_on"))
    is_relative = anchor is not None or (
        partial and milestone.is_relative and "relative" not in data
    )
    if not partial and not is_relative and values.get("due_on") is None and "due_on" not in errors:
        errors.add("due_on", _("Give a due date, or make the date relative to another milestone."))
    if is_relative and due_given and values.get("due_on") is not None and anchor is not None:
        errors.add("due_on", _("A relative milestone takes its date from the other milestone."))
    reason = check_text(errors, "reason", data.get("reason"), max_length=limits.REASON)
    if partial and due_given and values.get("due_on") != milestone.due_on and not reason:
        errors.add("reason", _("Say why the due date changes; the old date is kept."))
    return reason


def _status_fields(
    errors: Errors, data: dict, milestone: Milestone | None, values: dict[str, Any]
) -> None:
    """Status, date of performance and the note on the status, and how they go together."""
    if "status" in data:
        values["status"] = check_enum(errors, "status", data.get("status"), MilestoneStatus)
    if "met_on" in data:
        values["met_on"] = check_date(errors, "met_on", data.get("met_on"))
        if values["met_on"] is not None and values["met_on"] > clock.today():
            errors.add("met_on", _("A milestone cannot be met in the future."))
    if "status_note" in data:
        values["status_note"] = check_text(
            errors, "status_note", data.get("status_note"), max_length=limits.NOTE
        )
    status = values.get("status", milestone.status if milestone else MilestoneStatus.SCHEDULED)
    met_on = values.get("met_on", milestone.met_on if milestone else None)
    if "met_on" in data and values.get("met_on") is not None and "status" not in data:
        status = values["status"] = MilestoneStatus.MET
    if status == MilestoneStatus.MET and met_on is None and "met_on" not in errors:
        errors.add("met_on", _("Give the date the obligation was met."))
    if status in (MilestoneStatus.SCHEDULED,) and met_on is not None and "status" in data:
        errors.add(
            "met_on",
            _("A scheduled milestone has no date of performance; clear it or mark it met."),
        )
    if status == MilestoneStatus.WAIVED and not (
        values.get("status_note") or (milestone and milestone.status_note)
    ):
        errors.add("status_note", _("Say why the obligation is waived."))


def _store_milestone(
    user: User,
    contract: Contract,
    milestone: Milestone | None,
    values: dict[str, Any],
    anchor,
    reason: str | None,
) -> Milestone:
    """Write the checked values; keep a due date that moved; date the dependants once met."""
    created = milestone is None
    if created:
        milestone = Milestone(contract=contract)
        db.session.add(milestone)
    old_due = None if created else milestone.due_on
    set_values(milestone, values)
    if anchor is not None:
        if isinstance(anchor, Milestone):
            milestone.relative_to = anchor
        else:
            milestone.relative_to_claim = anchor
        milestone.due_on = _relative_date(milestone)
    if not created and milestone.due_on != old_due:
        db.session.add(
            DueDateChange(
                milestone=milestone,
                old_due_on=old_due,
                new_due_on=milestone.due_on,
                reason=reason or _("the date it depends on changed"),
                changed_by_id=user.id if user else None,
            )
        )
    db.session.flush()
    if "met_on" in values or "status" in values:
        recompute_dependents(user, milestone)
    return milestone


def _claim_anchor(errors: Errors, relative: dict, contract: Contract):
    """A claim of the same contract whose sending starts the count."""
    Claim = Milestone.claim_class()

    if relative.get("milestone_id") is not None:
        errors.add("relative", _("Count from a milestone or from a claim, not both."))
        return None
    ident = relative.get("claim_id")
    claim = db.session.get(Claim, ident) if isinstance(ident, int) else None
    if claim is None or claim.contract_id != contract.id:
        errors.add("relative.claim_id", _("No claim with id %(id)s in this contract.", id=ident))
        return None
    return claim


def _relative_date(milestone: Milestone) -> date | None:
    if milestone.relative_to_claim_id is not None:
        claim = milestone.relative_to_claim
        if claim is None or claim.sent_on is None:
            return None
        return relative_due(
            get_calendar(), claim.sent_on, milestone.relative_amount, milestone.relative_unit
        )
    anchor = milestone.relative_to
    if anchor is None or anchor.met_on is None or anchor.status != MilestoneStatus.MET:
        return None
    return relative_due(
        get_calendar(), anchor.met_on, milestone.relative_amount, milestone.relative_unit
    )


def _move_due(user: User | None, dependent: Milestone, new_due: date | None, reason: str) -> None:
    """A counted date moves: the change is kept with its reason."""
    db.session.add(
        DueDateChange(
            milestone=dependent,
            old_due_on=dependent.due_on,
            new_due_on=new_due,
            reason=reason,
            changed_by_id=getattr(user, "id", None),
        )
    )
    dependent.due_on = new_due


def recompute_dependents(user: User | None, milestone: Milestone) -> list[Milestone]:
    """Milestones whose date counts from this one get their date once it is met (or lose it)."""
    changed = []
    dependents = db.session.scalars(
        sa.select(Milestone).where(Milestone.relative_to_id == milestone.id)
    ).all()
    for dependent in dependents:
        new_due = _relative_date(dependent)
        if new_due != dependent.due_on:
            reason = _(
                "%(period)s after «%(title)s»",
                period=relative_phrase(dependent.relative_amount, dependent.relative_unit),
                title=milestone.title,
            )
            _move_due(user, dependent, new_due, reason)
            changed.append(dependent)
    db.session.flush()
    for dependent in changed:
        changed.extend(recompute_dependents(user, dependent))
    return changed


def recompute_claim_dependents(user: User | None, claim) -> list[Milestone]:
    """Milestones counted from the sending of this claim get their date once it is sent."""
    changed = []
    dependents = db.session.scalars(
        sa.select(Milestone).where(Milestone.relative_to_claim_id == claim.id)
    ).all()
    for dependent in dependents:
        new_due = _relative_date(dependent)
        if new_due == dependent.due_on:
            continue
        reason = _(
            "%(n)s %(unit)s after claim No. %(number)s was sent",
            n=dependent.relative_amount,
            unit=RelativeUnit(dependent.relative_unit).label,
            number=claim.outgoing_number or claim.id,
        )
        _move_due(user, dependent, new_due, reason)
        changed.append(dependent)
    db.session.flush()
    return changed


def mark_met(user: User, milestone: Milestone, met_on: date, note: str | None = None) -> Milestone:
    data: dict[str, Any] = {"status": MilestoneStatus.MET.value, "met_on": met_on}
    if note:
        data["status_note"] = note
    return save_milestone(user, milestone.contract, data, milestone)


def in_scope_by_id(user: User, ids: list[int]) -> list[Milestone]:
    """The milestones of `ids` whose contracts lie in the user's scope, in due order."""
    stmt = scope(
        sa.select(Milestone).join(Contract, Milestone.contract_id == Contract.id),
        user,
        Contract.region_code,
    ).where(Milestone.id.in_(ids))
    return list(db.session.scalars(stmt.order_by(Milestone.due_on, Milestone.id)))
