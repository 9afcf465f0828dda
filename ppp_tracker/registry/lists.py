"""The registry's lists, each defined once: the page shows a page of it, the export all of it.

Every function takes the acting user and the query-string arguments and returns a `Listing`
already restricted to the user's scope, so a list and its export can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.folding import contains
from ppp_tracker.core.listing import Listing
from ppp_tracker.db import db
from ppp_tracker.registry.codes import OPEN_MILESTONE_STATUSES
from ppp_tracker.registry.models import (
    Contract,
    Institution,
    Milestone,
    Party,
    ProductionSite,
    Project,
)

#: "At risk": a contract with an obligation overdue or due within this many days.
AT_RISK_DAYS = 7
#: The accrued penalty of each of these contracts on a day (the penalty's home, `deadlines`,
#: plugs it in: the registry does not compute penalties): fn(contract ids, day) -> {id: amount}.
CONTRACT_PENALTY: dict[str, Callable[[list[int], date], dict[int, Decimal]]] = {}


def institutions(user: User, args: Mapping | None = None) -> Listing:
    return Listing(
        scope(sa.select(Institution), user, Institution.region_code),
        search=[Institution.search_text],
        sorts={
            "name": Institution.name,
            "region": Institution.region_code,
            "kind": Institution.kind,
        },
        default_sort="name",
        filters={"region": Institution.region_code, "kind": Institution.kind},
        args=args,
    )


def parties(user: User, args: Mapping | None = None) -> Listing:
    # Counterparties are one directory shared by every region (DESIGN.md section 3).
    return Listing(
        sa.select(Party),
        search=[Party.search_text],
        sorts={"name": Party.name, "bin": Party.bin, "kind": Party.kind},
        default_sort="name",
        filters={"kind": Party.kind},
        args=args,
    )


def projects(user: User, args: Mapping | None = None) -> Listing:
    return Listing(
        scope(
            sa.select(Project).options(
                selectinload(Project.institution), selectinload(Project.investor)
            ),
            user,
            Project.region_code,
        ),
        search=[Project.search_text],
        sorts={
            "title": Project.title,
            "region": Project.region_code,
            "kind": Project.kind,
            "capacity": Project.capacity,
            "cost": Project.estimated_cost,
        },
        default_sort="title",
        filters={"region": Project.region_code, "kind": Project.kind, "status": Project.status},
        args=args,
    )


def sites(user: User, args: Mapping | None = None) -> Listing:
    return Listing(
        scope(
            sa.select(ProductionSite).options(
                selectinload(ProductionSite.institution), selectinload(ProductionSite.operator)
            ),
            user,
            ProductionSite.region_code,
        ),
        search=[ProductionSite.search_text],
        sorts={
            "name": ProductionSite.name,
            "region": ProductionSite.region_code,
            "arrangement": ProductionSite.arrangement,
            "employed": ProductionSite.employed,
        },
        default_sort="name",
        filters={
            "region": ProductionSite.region_code,
            "arrangement": ProductionSite.arrangement,
            "status": ProductionSite.status,
        },
        args=args,
    )


def contract_matches(q: str, *parties):
    """The contracts whose number or subject has `q`, or the name, BIN or e-mail of their party
    in one of `parties` (default: the contractor; the global search adds the customer).

    Look-ups each served by an index on PostgreSQL (the trigram index of the contracts, the
    index of the parties' column), joined in a UNION, rather than an OR across joins, which
    makes the database test every contract (36 ms against 1 at 10,000 contracts;
    docs/performance.md)."""
    found = sa.select(Party.id).where(contains(Party.search_text, q))
    return Contract.id.in_(
        sa.union(
            sa.select(Contract.id).where(contains(Contract.search_text, q)),
            *[
                sa.select(Contract.id).where(column.in_(found))
                for column in parties or (Contract.contractor_id,)
            ],
        )
    )


def _effective_due():
    return sa.func.coalesce(Milestone.effective_due_on, Milestone.due_on)


def _open_milestones():
    return sa.and_(Milestone.status.in_(OPEN_MILESTONE_STATUSES), Milestone.due_on.is_not(None))


def _figures_select(today: date):
    """Per contract with open obligations: how many are overdue and the next effective due date
    (read from the open milestones' index, perf4_01)."""
    eff = _effective_due()
    return (
        sa.select(
            Milestone.contract_id.label("contract_id"),
            sa.func.sum(sa.case((eff < today, 1), else_=0)).label("overdue"),
            sa.func.min(sa.case((eff >= today, eff), else_=None)).label("next_due"),
        )
        .where(_open_milestones())
        .group_by(Milestone.contract_id)
    )


def _figures_subquery(today: date):
    return _figures_select(today).subquery("figures")


def _at_risk(stmt, value: str):
    """Contracts with an open obligation overdue or due within AT_RISK_DAYS days."""
    if value != "1":
        return stmt
    horizon = clock.today() + timedelta(days=AT_RISK_DAYS)
    return stmt.where(
        sa.select(Milestone.id)
        .where(
            Milestone.contract_id == Contract.id,
            _open_milestones(),
            Milestone.due_on <= horizon,
            _effective_due() <= horizon,
        )
        .exists()
    )


def _selected(args: Mapping):
    """A selection of contracts (`ids=3&ids=5` or `ids=3,5`), as the list's bulk export sends
    it: at most 1,000 ids, anything but an id ignored."""
    values = args.getlist("ids") if hasattr(args, "getlist") else [args.get("ids") or ""]
    wanted = [
        int(part)
        for value in values
        for part in str(value).split(",")
        if part.strip().isdigit() and len(part.strip()) < 10
    ][:1000]

    def where(stmt, _value: str):
        return stmt.where(Contract.id.in_(wanted))

    return where


@dataclass(frozen=True)
class ContractFigures:
    overdue: int = 0
    next_due: date | None = None
    penalty: Decimal = Decimal("0.00")


def contract_figures(contracts) -> dict[int, ContractFigures]:
    """The overdue obligations, next due date and accrued penalty of a page of contracts (one
    query for the dates, one for the penalties: the same for 2 rows as for 100)."""
    ids = [c.id for c in contracts]
    if not ids:
        return {}
    today = clock.today()
    dates: dict = {}
    penalties: dict[int, Decimal] = {}
    # An export asks for thousands: in chunks (SQLite takes a limited number of parameters).
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        dates.update(
            (row.contract_id, row)
            for row in db.session.execute(
                _figures_select(today).where(Milestone.contract_id.in_(chunk))
            )
        )
        for fn in CONTRACT_PENALTY.values():
            penalties.update(fn(chunk, today))
    out = {}
    for cid in ids:
        row = dates.get(cid)
        out[cid] = ContractFigures(
            int(row.overdue or 0) if row else 0,
            row.next_due if row else None,
            penalties.get(cid, Decimal("0.00")),
        )
    return out


def contracts(user: User, args: Mapping | None = None) -> Listing:
    contractor = sa.orm.aliased(Party)
    wanted = args if args is not None else request.args
    stmt = sa.select(Contract)
    if (wanted.get("sort") or "").lstrip("-") == "contractor":
        # Only the contractor order needs the contractor's row in the query: without it the
        # count and a page of 10,000 contracts are read from the contracts' own indexes.
        stmt = stmt.join(contractor, Contract.contractor_id == contractor.id)
    figures = _figures_subquery(clock.today())
    if (wanted.get("sort") or "").lstrip("-") in ("overdue", "next_due"):
        # Likewise the open obligations' figures: joined only to sort by them.
        stmt = stmt.outerjoin(figures, figures.c.contract_id == Contract.id)
    # The page shows the contractor, the export also the customer (one query each for a page);
    # the project and the site are shown by neither.
    stmt = stmt.options(selectinload(Contract.contractor), selectinload(Contract.customer))
    return Listing(
        scope(stmt, user, Contract.region_code),
        search=[contract_matches],
        sorts={
            "number": Contract.number,
            "signed_on": Contract.signed_on,
            "amount": Contract.total_amount,
            "region": Contract.region_code,
            "contractor": contractor.name,
            "overdue": sa.func.coalesce(figures.c.overdue, 0),
            # Ascending, contracts with nothing open come after every date.
            "next_due": sa.func.coalesce(figures.c.next_due, date(9999, 12, 31)),
        },
        default_sort="-signed_on",
        filters={
            "region": Contract.region_code,
            "status": Contract.status,
            "risk": _at_risk,
            "ids": _selected(wanted),
        },
        args=args,
    )


#: The registry's lists by name, as exports and other features address them.
LISTS = {
    "institutions": institutions,
    "parties": parties,
    "projects": projects,
    "sites": sites,
    "contracts": contracts,
}
