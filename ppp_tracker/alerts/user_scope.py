"""A user whose role, region or active flag changes has their waiting reminders planned anew in
the same flush (`audience.replan_user`): a reminder never goes to someone who may no longer see it.

SQLAlchemy's flush event is the hook: auth, below the alerts, knows nothing of them.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from ppp_tracker.alerts.audience import replan_user
from ppp_tracker.auth.models import scope_changed


@event.listens_for(Session, "before_flush")
def _replan_users_whose_scope_changed(session: Session, flush_context, instances) -> None:
    changed = scope_changed(session)
    if not changed:
        return
    with session.no_autoflush:
        for user in changed:
            replan_user(session, user)
