"""One search across projects, contracts, parties and production sites: by name, number and BIN,
within the user's scope (counterparties are a directory shared by all regions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core import limits
from ppp_tracker.core.folding import contains, field_is
from ppp_tracker.core.validation import normalise_dashes
from ppp_tracker.db import db
from ppp_tracker.registry.lists import contract_matches
from ppp_tracker.registry.models import Contract, Party, ProductionSite, Project

GROUPS = ("contracts", "projects", "parties", "sites")
#: Results shown per group on the combined page; one group alone shows up to MAX_GROUP.
PER_GROUP = 10
MAX_GROUP = 200
MIN_QUERY = 2


@dataclass
class Group:
    name: str
    total: int = 0
    items: list = field(default_factory=list)


@dataclass
class Results:
    q: str
    groups: dict[str, Group]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups.values())


def normalise(q: str) -> str:
    """What people type: "14–28–9-1987", " 241 ", a BIN with spaces."""
    q = normalise_dashes(q or "").strip()[: limits.SEARCH]
    if re.fullmatch(r"[\d\s]{12,20}", q) and len(q.replace(" ", "")) == 12:
        q = q.replace(" ", "")
    return q


def _page(stmt, limit: int) -> tuple[int, list]:
    counted = sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.scalar(counted)
    items = db.session.scalars(stmt.limit(limit)).unique().all() if total else []
    return int(total or 0), list(items)


def search(user: User, q: str, only: str | None = None) -> Results:
    """Matches of `q` in each group; exact numbers and BINs first."""
    q = normalise(q)
    groups = {name: Group(name) for name in GROUPS if only in (None, name)}
    if len(q) < MIN_QUERY:
        return Results(q, groups)
    limit = MAX_GROUP if only else PER_GROUP

    if "contracts" in groups:
        stmt = (
            sa.select(Contract)
            .where(contract_matches(q, Contract.contractor_id, Contract.customer_id))
            .options(selectinload(Contract.contractor))
            .order_by(
                sa.case((field_is(Contract, "number", q), 0), else_=1),
                Contract.signed_on.desc(),
                Contract.id,
            )
        )
        groups["contracts"].total, groups["contracts"].items = _page(
            scope(stmt, user, Contract.region_code), limit
        )
    if "projects" in groups:
        stmt = (
            sa.select(Project)
            .where(contains(Project.search_text, q))
            .order_by(Project.title, Project.id)
        )
        groups["projects"].total, groups["projects"].items = _page(
            scope(stmt, user, Project.region_code), limit
        )
    if "parties" in groups:
        stmt = (
            sa.select(Party)
            .where(contains(Party.search_text, q))
            .order_by(sa.case((Party.bin == q, 0), else_=1), Party.name, Party.id)
        )
        groups["parties"].total, groups["parties"].items = _page(stmt, limit)
    if "sites" in groups:
        operators = sa.select(Party.id).where(contains(Party.search_text, q))
        stmt = (
            sa.select(ProductionSite)
            .where(
                ProductionSite.id.in_(
                    sa.union(
                        sa.select(ProductionSite.id).where(contains(ProductionSite.search_text, q)),
                        sa.select(ProductionSite.id).where(
                            ProductionSite.operator_id.in_(operators)
                        ),
                    )
                )
            )
            .options(selectinload(ProductionSite.operator))
            .order_by(ProductionSite.name, ProductionSite.id)
        )
        groups["sites"].total, groups["sites"].items = _page(
            scope(stmt, user, ProductionSite.region_code), limit
        )
    return Results(q, groups)
