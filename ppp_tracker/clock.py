"""The one place that knows what day and time it is; tests and demos can move it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Almaty"


def local_zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ
    return ZoneInfo(name)


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's legal date in the department's time zone (Asia/Almaty), or the configured fake."""
    if has_app_context():
        fake = current_app.config.get("FAKE_TODAY")
        if fake:
            return fake if isinstance(fake, date) else date.fromisoformat(str(fake))
    return now().astimezone(local_zone()).date()


def to_local(moment: datetime) -> datetime:
    """A UTC timestamp as wall-clock time in Asia/Almaty (UTC+6 before 2024-03-01, UTC+5 since)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(local_zone())
