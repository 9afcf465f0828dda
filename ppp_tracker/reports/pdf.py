"""The printable report of overdue obligations per region (PDF, rendered by WeasyPrint)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import current_app, render_template

from ppp_tracker import clock
from ppp_tracker.auth.models import User
from ppp_tracker.core.pdf import local_fetcher
from ppp_tracker.core.regions import Region
from ppp_tracker.db import db
from ppp_tracker.reports.deadline_list import DeadlineFilter, DeadlineItem, deadline_items


@dataclass(frozen=True)
class RegionSection:
    region: Region
    items: list[DeadlineItem]

    @property
    def accrued(self) -> Decimal:
        return sum((i.accrued for i in self.items), Decimal("0.00"))


def overdue_by_region(user: User, as_of: date, region: str | None = None) -> list[RegionSection]:
    items = deadline_items(user, DeadlineFilter(state="overdue", region=region), as_of)
    regions = {r.code: r for r in db.session.query(Region).all()}
    grouped: dict[str, list[DeadlineItem]] = {}
    for item in items:
        grouped.setdefault(item.milestone.contract.region_code, []).append(item)
    return [RegionSection(regions[code], grouped[code]) for code in sorted(grouped)]


def _fonts_dir() -> Path:
    return Path(current_app.static_folder) / "fonts"


def _local_fetcher():
    """Our fonts and nothing else (no network, no other file): the report's text comes from
    users, so nothing in it may make the server fetch a URL."""
    return local_fetcher(_fonts_dir(), fail_on_errors=True)


def overdue_pdf(user: User, as_of: date, locale: str, region: str | None = None) -> bytes:
    from weasyprint import HTML

    sections = overdue_by_region(user, as_of, region)
    html = render_template(
        "reports/overdue_report.html",
        sections=sections,
        as_of=as_of,
        total=sum((s.accrued for s in sections), Decimal("0.00")),
        count=sum(len(s.items) for s in sections),
        generated_at=clock.now(),
        user=user,
        locale=locale,
        fonts_url=_fonts_dir().resolve().as_uri(),
    )
    return HTML(string=html, url_fetcher=_local_fetcher()).write_pdf()
