"""JSON API v1 of the registry: regions, institutions, parties, projects, sites, contracts,
milestones and deadlines. Thin: parse, call the registry services, dump.

One blueprint, `blp` (in `.blueprint`); its resources live per object in this package's modules,
which add themselves to it when imported here (in the order of the OpenAPI document).
"""

# The modules' order is the order of the OpenAPI document's paths.
# isort: off
from ppp_tracker.api.registry import parties, projects, contracts, milestones  # noqa: F401
# isort: on

from ppp_tracker.api.registry.blueprint import blp

__all__ = ["blp"]
