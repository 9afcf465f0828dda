"""API resources of projects (with their stages) and production sites."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from ppp_tracker.api.registry.blueprint import ListArgs, blp, search
from ppp_tracker.auth.access import Permission, get_in_scope, scope
from ppp_tracker.auth.api_access import api_user, requires
from ppp_tracker.core import limits
from ppp_tracker.core.api import (
    TOTAL_COUNT_HEADER,
    DecimalText,
    IdField,
    MoneyField,
    StrictDate,
    enum_field,
    page_of,
    run_service,
)
from ppp_tracker.registry.codes import (
    Arrangement,
    ProjectKind,
    ProjectStatus,
    SiteStatus,
    StageKind,
)
from ppp_tracker.registry.models import (
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.projects import save_project, save_site


class StageSchema(ma.Schema):
    kind = enum_field(StageKind, required=True)
    planned_on = StrictDate(allow_none=True)
    actual_on = StrictDate(allow_none=True)
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NOTE))


class ProjectSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.LINE))
    kind = enum_field(ProjectKind, required=True)
    status = enum_field(ProjectStatus)
    region = ma.fields.String(required=True, attribute="region_code")
    institution = IdField(allow_none=True, attribute="institution_id")
    investor_id = IdField(allow_none=True)
    capacity = ma.fields.Integer(
        allow_none=True, validate=ma.validate.Range(min=1, max=limits.HEADCOUNT)
    )
    land_area_ha = DecimalText(allow_none=True)
    estimated_cost = MoneyField(allow_none=True)
    term_years = ma.fields.Integer(
        allow_none=True, validate=ma.validate.Range(min=1, max=limits.TERM_YEARS)
    )
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))
    stages = ma.fields.List(ma.fields.Nested(StageSchema))
    is_demo = ma.fields.Boolean(dump_only=True)


class SiteSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.NAME))
    arrangement = enum_field(Arrangement, required=True)
    status = enum_field(SiteStatus)
    institution = IdField(required=True, attribute="institution_id")
    institution_name = ma.fields.Function(lambda s: s.institution.name, dump_only=True)
    operator_id = IdField(allow_none=True)
    region = ma.fields.String(
        attribute="region_code", metadata={"description": "follows from the institution"}
    )
    activity = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NAME))
    area_m2 = DecimalText(places=2, allow_none=True)
    employed = ma.fields.Integer(validate=ma.validate.Range(min=0, max=limits.HEADCOUNT))
    is_demo = ma.fields.Boolean(dump_only=True)


class SiteListArgs(ListArgs):
    arrangement = enum_field(Arrangement)


def _project_data(data: dict) -> dict:
    renames = {"region_code": "region", "institution_id": "institution"}
    return {renames.get(k, k): v for k, v in data.items()}


@blp.route("/projects")
class Projects(MethodView):
    @requires(Permission.READ)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ProjectSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        user = api_user()
        stmt = scope(
            sa.select(Project).options(selectinload(Project.stages)), user, Project.region_code
        )
        stmt = search(stmt.order_by(Project.id), args.get("q"), Project.search_text)
        if args.get("region"):
            stmt = stmt.where(Project.region_code == args["region"])
        return page_of(stmt, args)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(ProjectSchema)
    @blp.response(201, ProjectSchema)
    def post(self, data):
        user = api_user()
        return run_service(save_project, user, _project_data(data))


@blp.route("/projects/<id:project_id>")
class ProjectItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, ProjectSchema)
    def get(self, project_id):
        return get_in_scope(Project, project_id)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(ProjectSchema(partial=True))
    @blp.response(200, ProjectSchema)
    def patch(self, data, project_id):
        user = api_user()
        project = get_in_scope(Project, project_id)
        return run_service(save_project, user, _project_data(data), project)


def _site_data(data: dict) -> dict:
    renames = {"region_code": "region", "institution_id": "institution"}
    return {renames.get(k, k): v for k, v in data.items()}


@blp.route("/sites")
class Sites(MethodView):
    @requires(Permission.READ)
    @blp.arguments(SiteListArgs, location="query")
    @blp.response(200, SiteSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        user = api_user()
        stmt = scope(
            sa.select(ProductionSite).options(selectinload(ProductionSite.institution)),
            user,
            ProductionSite.region_code,
        ).order_by(ProductionSite.id)
        stmt = search(stmt, args.get("q"), ProductionSite.search_text)
        if args.get("region"):
            stmt = stmt.where(ProductionSite.region_code == args["region"])
        if args.get("arrangement"):
            stmt = stmt.where(ProductionSite.arrangement == args["arrangement"])
        return page_of(stmt, args)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(SiteSchema)
    @blp.response(201, SiteSchema)
    def post(self, data):
        user = api_user()
        return run_service(save_site, user, _site_data(data))


@blp.route("/sites/<id:site_id>")
class SiteItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, SiteSchema)
    def get(self, site_id):
        return get_in_scope(ProductionSite, site_id)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(SiteSchema(partial=True))
    @blp.response(200, SiteSchema)
    def patch(self, data, site_id):
        user = api_user()
        site = get_in_scope(ProductionSite, site_id)
        return run_service(save_site, user, _site_data(data), site)
