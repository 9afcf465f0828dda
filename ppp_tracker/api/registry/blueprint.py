"""The registry API's blueprint and what its resources share: list arguments and search."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa

from ppp_tracker.auth.api_access import PATH_RECORDS, api_blueprint
from ppp_tracker.core import limits
from ppp_tracker.core.api import PageArgs
from ppp_tracker.core.folding import contains
from ppp_tracker.registry.models import (
    Contract,
    Milestone,
    ProductionSite,
    Project,
)

blp = api_blueprint("registry_api", "The registry: parties, projects, sites, contracts, milestones")
PATH_RECORDS.update(
    contract_id=Contract, milestone_id=Milestone, project_id=Project, site_id=ProductionSite
)


class ListArgs(PageArgs):
    q = ma.fields.String(validate=ma.validate.Length(max=limits.SEARCH))
    region = ma.fields.String(validate=ma.validate.Length(max=limits.REGION))


def search(stmt, q: str | None, *columns):
    """`q` in any of `columns` (records' `search_text`), folded as the pages search."""
    if q and q.strip():
        stmt = stmt.where(sa.or_(*[contains(c, q.strip()[: limits.SEARCH]) for c in columns]))
    return stmt
