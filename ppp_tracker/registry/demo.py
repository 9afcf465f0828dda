"""Demo data: the article's facts (DESIGN.md section 2, `demo_article`) plus generated, clearly
marked production sites (`demo_sites`)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ppp_tracker import clock
from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.auth.models import User
from ppp_tracker.db import db
from ppp_tracker.registry import demo_article, demo_sites
from ppp_tracker.registry.models import Project


def is_loaded() -> bool:
    title = demo_article.KARAGANDA_TITLE
    return db.session.scalar(sa.select(Project.id).where(Project.title == title)) is not None


def load(today: date | None = None) -> dict[str, int]:
    """Load everything; returns counts. The caller commits."""
    today = today or clock.today()
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@demo.kz"))
    facts = demo_article.load(SYSTEM_USER, officer)
    sites = demo_sites.load(SYSTEM_USER, today, officer)
    return {**facts, **sites}
