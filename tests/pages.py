"""Helpers for tests that read pages as a person does: the visible text of a response, a user of
a role, and "today" moved (shared by the claim-receipt and calendar-year tests)."""

from __future__ import annotations

import re
import uuid
from datetime import date

from ppp_tracker.auth.services import create_user
from ppp_tracker.db import db
from tests.conftest import PASSWORD

NBSP = "\u00a0"


def text_of(response) -> str:
    html = response.get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (("&nbsp;", " "), ("&#34;", '"'), ("&#39;", "'"), ("&quot;", '"')):
        text = text.replace(entity, char)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.replace(NBSP, " ").split())


def user(role: str, region: str | None = "KZ-35"):
    made, _ = create_user(
        f"{role}-{uuid.uuid4().hex[:8]}@example.kz",
        role=role,
        region_code=region,
        password=PASSWORD,
    )
    db.session.commit()
    return made


def move_today(app, day: str) -> None:
    app.config["FAKE_TODAY"] = date.fromisoformat(day)
