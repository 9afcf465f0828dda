"""Who may receive a milestone's reminder: the one check that planning and sending both call.

A reminder goes to people as they are *now*: the scan asks when it plans the deliveries, the
sender asks again just before the e-mail leaves (a user may have been moved to another region,
given another role or deactivated in between), and a change of a user's role, region or active
flag re-plans their open deliveries at once (`replan_user`).
"""

from __future__ import annotations

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
from ppp_tracker.auth.access import in_scope
from ppp_tracker.auth.models import Role, User

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


def replan_user(session: Session, user: User) -> None:
    """After the user's role, region or active flag changed (called in that flush): their
    waiting reminders that they may no longer receive are cancelled, and each such alert goes
    to whoever should receive it now (the scan queues the new immediate ones as lost work,
    within ALERT_REQUEUE_AFTER_SECONDS)."""
    from ppp_tracker.alerts.scan import recipients

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
