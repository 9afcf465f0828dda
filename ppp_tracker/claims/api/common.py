"""The claims API's blueprint (`claims_api`) and what its resources share: ids that fit the
database, text without NUL."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from ppp_tracker.auth.api_access import PATH_RECORDS, api_blueprint
from ppp_tracker.claims.models import Case, Claim
from ppp_tracker.core import limits

blp = api_blueprint("claims_api", "Penalties, claim letters and lawsuits")
PATH_RECORDS.update(claim_id=Claim, case_id=Case)

#: Text that reaches a query may not hold a NUL byte (PostgreSQL refuses it).
NO_NUL = ma.validate.Regexp(r"^[^\x00]*$", error=_l("Contains a forbidden character."))


def Id(**kwargs) -> ma.fields.Integer:
    """A positive id that fits the database's integer column: a larger one is a 422, not an
    error from PostgreSQL."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=limits.MAX_ID), **kwargs)
