"""Who receives a milestone's reminder: the check that planning and sending both call
(`may_receive`, and `receivable`, its SQL form), and the choice of the recipients
(`choose_recipients` for one alert, `chosen_recipients` in SQL for a scan's batch).

A reminder goes to people as they are *now*: the scan asks when it plans the deliveries, the
sender asks again just before the e-mail leaves (a user may have been moved to another region,
given another role or deactivated in between), and a change of a user's role, region or active
flag re-plans their open deliveries at once (`replan_user`).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ppp_tracker import clock
from ppp_tracker.alerts.models import (
    OPEN_DELIVERY_STATUSES,
    AlertDelivery,
    CancelReason,
    DeliveryStatus,
    RecipientReason,
)
from ppp_tracker.alerts.rules import is_overdue_rule
from ppp_tracker.auth.access import in_scope
from ppp_tracker.auth.models import Role, User
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone

#: Roles that may be made responsible for a milestone or a contract (registry.views
#: officer_choices): a viewer reads, and a reminder to act is not theirs.
ACTING_ROLES = frozenset({Role.OFFICER, Role.MANAGER, Role.ADMIN, Role.LEGAL})


def refusal(user: User | None, region_code: str | None, reason) -> CancelReason | None:
    """Why `user` may not (or no longer) receive a reminder of a milestone of `region_code` as
    `reason` (responsible, officer, manager); None when they may."""
    if user is None or not user.active:
        return CancelReason.INACTIVE_USER
    if not in_scope(user, region_code):
        return CancelReason.OUT_OF_SCOPE
    role = Role(user.role)
    if RecipientReason(reason) == RecipientReason.MANAGER:
        allowed = role == Role.MANAGER
    else:
        allowed = role in ACTING_ROLES
    return None if allowed else CancelReason.ROLE_CHANGED


def may_receive(user: User | None, region_code: str | None, reason) -> bool:
    return refusal(user, region_code, reason) is None


def receivable(users: sa.FromClause, region_code, reason) -> sa.ColumnElement[bool]:
    """`may_receive` in SQL, over a users table (or an alias of it) and a region's column: the
    scan chooses its recipients with it in the database (tests/test_scope_alerts.py holds the
    two forms to the same answers)."""
    if RecipientReason(reason) == RecipientReason.MANAGER:
        roles = [Role.MANAGER.value]
    else:
        roles = sorted(role.value for role in ACTING_ROLES)
    return sa.and_(
        users.c.active.is_(True),
        sa.or_(users.c.region_code.is_(None), users.c.region_code == region_code),
        users.c.role.in_(roles),
    )


def chosen_recipients(alerts: sa.FromClause) -> sa.Subquery:
    """`choose_recipients` in SQL for a table of new alerts (id, milestone_id, rule): a row
    (alert_id, user_id, reason, mode, rank) per recipient, rank 0 for the one in line, 1 for
    the managers."""
    m, c = Milestone.__table__, Contract.__table__
    users = User.__table__
    resp, off, mgr = users.alias("responsible"), users.alias("officer"), users.alias("manager")
    resp_ok = receivable(resp, c.c.region_code, RecipientReason.RESPONSIBLE)
    off_ok = receivable(off, c.c.region_code, RecipientReason.OFFICER)
    first = (
        sa.select(
            alerts.c.id.label("alert_id"),
            alerts.c.rule,
            c.c.region_code,
            sa.case((resp_ok, resp.c.id), (off_ok, off.c.id)).label("user_id"),
            sa.case(
                (resp_ok, RecipientReason.RESPONSIBLE.value),
                (off_ok, RecipientReason.OFFICER.value),
            ).label("reason"),
            sa.case((resp_ok, resp.c.alert_mode), (off_ok, off.c.alert_mode)).label("mode"),
        )
        .select_from(
            alerts.join(m, m.c.id == alerts.c.milestone_id)
            .join(c, c.c.id == m.c.contract_id)
            .outerjoin(resp, resp.c.id == m.c.responsible_id)
            .outerjoin(off, off.c.id == c.c.officer_id)
        )
        .cte("first_in_line")
    )
    in_line = sa.select(
        first.c.alert_id, first.c.user_id, first.c.reason, first.c.mode, sa.literal(0).label("rank")
    ).where(first.c.user_id.is_not(None))
    managers = (
        sa.select(
            first.c.alert_id,
            mgr.c.id,
            sa.literal(RecipientReason.MANAGER.value),
            mgr.c.alert_mode,
            sa.literal(1),
        )
        .join_from(first, mgr, receivable(mgr, first.c.region_code, RecipientReason.MANAGER))
        .where(
            sa.or_(first.c.rule.startswith("overdue_", autoescape=True), first.c.user_id.is_(None)),
            mgr.c.id.is_distinct_from(first.c.user_id),
        )
    )
    return sa.union_all(in_line, managers).subquery("chosen")


def recipients(milestone: Milestone, rule: str) -> list[tuple[User, RecipientReason]]:
    """The people a reminder of `milestone` at `rule` goes to (see `choose_recipients`)."""
    contract = milestone.contract
    return choose_recipients(
        milestone.responsible,
        contract.officer,
        contract.region_code,
        rule,
        lambda: managers_of(contract.region_code),
    )


def choose_recipients(
    responsible: User | None,
    officer: User | None,
    region_code: str,
    rule: str,
    managers: Callable[[], list[User]],
) -> list[tuple[User, RecipientReason]]:
    """The responsible officer (or the contract's officer); the region's managers from the first
    overdue reminder on — and always when nobody is responsible, so that no date goes unseen."""
    out: dict[int, tuple[User, RecipientReason]] = {}
    # Each person as they are now (audience.may_receive): one moved to another region, given
    # another role or deactivated is passed over, and the next in line is told instead.
    if may_receive(responsible, region_code, RecipientReason.RESPONSIBLE):
        out[responsible.id] = (responsible, RecipientReason.RESPONSIBLE)
    elif may_receive(officer, region_code, RecipientReason.OFFICER):
        out[officer.id] = (officer, RecipientReason.OFFICER)
    if is_overdue_rule(rule) or not out:
        for manager in managers():
            if may_receive(manager, region_code, RecipientReason.MANAGER):
                out.setdefault(manager.id, (manager, RecipientReason.MANAGER))
    return list(out.values())


def managers_of(region_code: str) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role == Role.MANAGER,
                User.active.is_(True),
                sa.or_(User.region_code.is_(None), User.region_code == region_code),
            )
            .order_by(User.id)
        )
    )


def replan_user(session: Session, user: User) -> None:
    """After the user's role, region or active flag changed (called in that flush): their
    waiting reminders that they may no longer receive are cancelled, and each such alert goes
    to whoever should receive it now (the scan queues the new immediate ones as lost work,
    within ALERT_REQUEUE_AFTER_SECONDS)."""
    if user.id is None:
        return
    open_rows = session.scalars(
        sa.select(AlertDelivery).where(
            AlertDelivery.user_id == user.id,
            AlertDelivery.status.in_(OPEN_DELIVERY_STATUSES),
            # A digest or a send already under way carries on; its sender checks again.
            AlertDelivery.status != DeliveryStatus.SENDING,
            AlertDelivery.digest_id.is_(None),
        )
    ).all()
    for row in open_rows:
        milestone = row.alert.milestone
        why = refusal(user, milestone.region_code, row.reason)
        if why is None:
            continue
        row.status = DeliveryStatus.CANCELLED
        row.cancel_reason = why
        have = set(
            session.scalars(
                sa.select(AlertDelivery.user_id).where(AlertDelivery.alert_id == row.alert_id)
            )
        )
        for person, reason in recipients(milestone, row.alert.rule):
            if person.id in have:
                continue
            have.add(person.id)
            session.add(
                AlertDelivery(
                    alert_id=row.alert_id,
                    user_id=person.id,
                    reason=reason,
                    mode=person.alert_mode,
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    created_at=clock.now(),
                )
            )
