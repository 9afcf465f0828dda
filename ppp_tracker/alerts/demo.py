"""The alerts' part of the demo: the manager reads one daily digest, the officer each alert."""

from __future__ import annotations

import sqlalchemy as sa

from ppp_tracker.auth.models import AlertMode, User
from ppp_tracker.db import db


def demo_alert_settings() -> dict[str, int]:
    manager = db.session.scalar(sa.select(User).where(User.email == "manager@demo.kz"))
    if manager is not None:
        # The demo's manager oversees every region; a digest shows that mode in the outbox.
        manager.alert_mode = AlertMode.DIGEST
    db.session.flush()
    return {"digest_users": 1 if manager is not None else 0}
