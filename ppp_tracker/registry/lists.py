"""The registry's lists, each defined once: the page shows a page of it, the export all of it.

Every function takes the acting user and the query-string arguments and returns a `Listing`
already restricted to the user's scope, so a list and its export can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import selectinload

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.folding import contains
from ppp_tracker.core.listing import Listing
from ppp_tracker.registry.models import Contract, Institution, Party, ProductionSite, Project


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


def contracts(user: User, args: Mapping | None = None) -> Listing:
    contractor = sa.orm.aliased(Party)
    wanted = args if args is not None else request.args
    stmt = sa.select(Contract)
    if (wanted.get("sort") or "").lstrip("-") == "contractor":
        # Only the contractor order needs the contractor's row in the query: without it the
        # count and a page of 10,000 contracts are read from the contracts' own indexes.
        stmt = stmt.join(contractor, Contract.contractor_id == contractor.id)
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
        },
        default_sort="-signed_on",
        filters={"region": Contract.region_code, "status": Contract.status},
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
