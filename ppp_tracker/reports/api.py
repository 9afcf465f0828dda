"""JSON API of the reports feature: the caller's calendar feed address and OCDS open data."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from ppp_tracker.auth.access import Permission, get_in_scope
from ppp_tracker.auth.api_access import api_blueprint, api_user, requires
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract
from ppp_tracker.reports import calendar_feed, ocds

blp = api_blueprint("reports_api", "Calendar feed and OCDS open data")


class CalendarSchema(ma.Schema):
    url = ma.fields.String(
        allow_none=True,
        metadata={"description": "the feed's address (null while the feed is switched off)"},
    )
    active = ma.fields.Boolean()


class OcdsArgs(ma.Schema):
    region = ma.fields.String(validate=ma.validate.Length(max=8))


OCDS_RESPONSE = {
    "200": {
        "description": "An OCDS 1.1 release package",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _calendar(change) -> dict:
    """`change` the caller's feed (commit), and say where it is."""
    feed = change(api_user())
    db.session.commit()
    return {"url": calendar_feed.feed_url(feed), "active": feed.active}


@blp.route("/me/calendar")
class MyCalendar(MethodView):
    @requires(Permission.READ)
    @blp.response(200, CalendarSchema)
    def get(self):
        """The caller's iCalendar feed address (created on first request)."""
        return _calendar(calendar_feed.ensure_feed)

    @requires(Permission.READ)
    @blp.response(204)
    def delete(self):
        """Switch the feed off; its address stops working (renew to get a new one)."""
        user = api_user()
        calendar_feed.revoke_feed(user)
        db.session.commit()


@blp.route("/me/calendar/renew")
class RenewMyCalendar(MethodView):
    @requires(Permission.READ)
    @blp.response(200, CalendarSchema)
    def post(self):
        """A new feed address; the old one stops working at once."""
        return _calendar(calendar_feed.renew_feed)


@blp.route("/ocds/contracts/<id:contract_id>")
class OcdsContract(MethodView):
    @requires(Permission.READ)
    @blp.doc(responses=OCDS_RESPONSE)
    def get(self, contract_id):
        """The contract as an OCDS 1.1 release package."""
        get_in_scope(Contract, contract_id)
        contract = ocds.load_contract(contract_id)
        package = ocds.contract_package(contract, request.url)
        return Response(ocds.dumps(package), mimetype="application/json")


@blp.route("/ocds/contracts")
class OcdsContracts(MethodView):
    @requires(Permission.READ)
    @blp.arguments(OcdsArgs, location="query")
    @blp.doc(responses=OCDS_RESPONSE)
    def get(self, args):
        """Every contract in the caller's scope as one OCDS 1.1 release package."""
        user = api_user()
        package = ocds.bulk_package(user, request.url, region=args.get("region"))
        return Response(ocds.dumps(package), mimetype="application/json")
