"""JSON API v1 of the claims feature (DESIGN.md section 8): the penalty of a contract, claims
with approval and sending, their letters, replies and escalation, and lawsuits. Thin: parse,
check the permission and scope, call the claims services, commit once, dump.

One blueprint, `claims_api` (`common.blp`), to which each module adds its resources: `penalty`,
`claims` (their schemas in `claim_schemas`), `lawsuits`. The app registers the `blp` of this
module (ppp_tracker.api.API_MODULES), once every resource is on it.
"""

from ppp_tracker.claims.api import claims, lawsuits, penalty  # noqa: F401 - resources on blp
from ppp_tracker.claims.api.common import blp

__all__ = ["blp"]
