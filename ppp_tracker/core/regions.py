"""The regions (oblasts and cities of republican significance): reference data every feature reads.

Users are bound to a region (auth), records belong to one (registry), letters name its court
(claims): it lives below all of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ppp_tracker.db import db


class Region(db.Model):
    """An oblast or a city of republican significance; `code` is its ISO 3166-2 code."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    name_ru: Mapped[str] = mapped_column(sa.String(120))
    name_kk: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    #: The specialised inter-district economic court that hears the region's contract disputes.
    court_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: The same court's name in Kazakh, for Kazakh letters.
    court_name_kk: Mapped[str | None] = mapped_column(sa.String(255))

    def name(self, locale: str = "ru") -> str:
        return {"kk": self.name_kk, "en": self.name_en}.get(str(locale)[:2], self.name_ru)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name_en}>"
