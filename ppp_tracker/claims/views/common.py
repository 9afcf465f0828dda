"""The claims pages' blueprint (every page needs a logged-in reader) and what its views share."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash
from flask_login import login_required

from ppp_tracker.auth.access import Permission, require
from ppp_tracker.core.errors import Invalid

bp = Blueprint("claims", __name__)


@bp.before_request
@login_required
def _logged_in():
    """Every claims page needs a logged-in user who may read."""
    require(Permission.READ)


def flash_errors(exc: Invalid) -> None:
    for messages in exc.errors.values():
        for message in messages:
            flash(message, "danger")


def blank(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
