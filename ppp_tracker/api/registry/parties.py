"""API resources of regions, institutions and counterparties."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView

from ppp_tracker.api.registry.blueprint import ListArgs, blp, search
from ppp_tracker.auth.access import Permission, scope
from ppp_tracker.auth.api_access import api_user, requires
from ppp_tracker.core import limits
from ppp_tracker.core.api import TOTAL_COUNT_HEADER, PageArgs, enum_field, page_of, run_service
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    InstitutionKind,
    PartyKind,
)
from ppp_tracker.registry.models import (
    Institution,
    Party,
    Region,
)
from ppp_tracker.registry.services.parties import save_institution, save_party


class RegionSchema(ma.Schema):
    code = ma.fields.String(dump_only=True)
    name_ru = ma.fields.String(dump_only=True)
    name_kk = ma.fields.String(dump_only=True)
    name_en = ma.fields.String(dump_only=True)
    court_name = ma.fields.String(dump_only=True, allow_none=True)
    court_name_kk = ma.fields.String(dump_only=True, allow_none=True)


class InstitutionSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.NAME))
    kind = enum_field(InstitutionKind, required=True)
    region = ma.fields.String(required=True, attribute="region_code")
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NAME))
    capacity = ma.fields.Integer(
        allow_none=True, validate=ma.validate.Range(min=0, max=limits.HEADCOUNT)
    )


class PartySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.NAME))
    name_kk = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=limits.NAME),
        metadata={"description": "the name in Kazakh, for Kazakh letters"},
    )
    bin = ma.fields.String(allow_none=True, metadata={"description": "12-digit BIN/IIN"})
    kind = enum_field(PartyKind, required=True)
    email = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NAME))
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.CODE))
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.LINE))
    address_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.LINE))
    head_position = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NAME))
    head_position_kk = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=limits.NAME)
    )
    head_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NAME))
    region = ma.fields.String(allow_none=True, attribute="region_code")


class PartyListArgs(PageArgs):
    q = ma.fields.String(validate=ma.validate.Length(max=limits.SEARCH))
    kind = enum_field(PartyKind)


@blp.route("/regions")
class Regions(MethodView):
    @requires(Permission.READ)
    @blp.response(200, RegionSchema(many=True))
    def get(self):
        """The regions: their `code` is what `region` fields and `--region` take."""
        return db.session.scalars(sa.select(Region).order_by(Region.code)).all()


@blp.route("/institutions")
class Institutions(MethodView):
    @requires(Permission.READ)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, InstitutionSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        user = api_user()
        stmt = scope(sa.select(Institution), user, Institution.region_code).order_by(
            Institution.name
        )
        stmt = search(stmt, args.get("q"), Institution.search_text)
        if args.get("region"):
            stmt = stmt.where(Institution.region_code == args["region"])
        return page_of(stmt, args)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(InstitutionSchema)
    @blp.response(201, InstitutionSchema)
    def post(self, data):
        user = api_user()
        data["region"] = data.pop("region_code", None)
        return run_service(save_institution, user, data)


@blp.route("/parties")
class Parties(MethodView):
    @requires(Permission.READ)
    @blp.arguments(PartyListArgs, location="query")
    @blp.response(200, PartySchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        stmt = search(sa.select(Party).order_by(Party.name), args.get("q"), Party.search_text)
        if args.get("kind"):
            stmt = stmt.where(Party.kind == args["kind"])
        return page_of(stmt, args)

    @requires(Permission.EDIT_PARTIES)
    @blp.arguments(PartySchema)
    @blp.response(201, PartySchema)
    def post(self, data):
        user = api_user()
        if "region_code" in data:
            data["region"] = data.pop("region_code")
        return run_service(save_party, user, data)


@blp.route("/parties/<id:party_id>")
class PartyItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, PartySchema)
    def get(self, party_id):
        return db.get_or_404(Party, party_id)

    @requires(Permission.EDIT_PARTIES)
    @blp.arguments(PartySchema(partial=True))
    @blp.response(200, PartySchema)
    def patch(self, data, party_id):
        user = api_user()
        party = db.get_or_404(Party, party_id)
        if "region_code" in data:
            data["region"] = data.pop("region_code")
        return run_service(save_party, user, data, party)
