"""JSON API v1 of the registry: regions, institutions, parties, projects, sites, contracts,
milestones and deadlines. Thin: parse, call the registry services, dump."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, get_in_scope, scope
from ppp_tracker.auth.api_access import PATH_RECORDS, api_blueprint, api_user, requires
from ppp_tracker.core.api import (
    TOTAL_COUNT_HEADER,
    DecimalText,
    IdField,
    MoneyField,
    PageArgs,
    QueryId,
    StrictDate,
    enum_field,
    page_of,
    run_service,
)
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import MilestoneState, timing
from ppp_tracker.core.folding import contains
from ppp_tracker.core.regions import Region
from ppp_tracker.db import db
from ppp_tracker.registry import services
from ppp_tracker.registry.codes import (
    Arrangement,
    ContractStatus,
    InstitutionKind,
    MilestoneStatus,
    MilestoneType,
    Obligor,
    PartyKind,
    PenaltyBase,
    ProjectKind,
    ProjectStatus,
    RelativeUnit,
    SiteStatus,
    StageKind,
)
from ppp_tracker.registry.lists import contract_matches
from ppp_tracker.registry.models import (
    Contract,
    Institution,
    Milestone,
    Party,
    ProductionSite,
    Project,
)

blp = api_blueprint("registry_api", "The registry: parties, projects, sites, contracts, milestones")
PATH_RECORDS.update(
    contract_id=Contract, milestone_id=Milestone, project_id=Project, site_id=ProductionSite
)


def _loaded(data: dict) -> dict:
    """The loaded arguments as the services expect them (values as given, keys as in the API)."""
    return dict(data)


# --- schemas ---------------------------------------------------------------------------------


class RegionSchema(ma.Schema):
    code = ma.fields.String(dump_only=True)
    name_ru = ma.fields.String(dump_only=True)
    name_kk = ma.fields.String(dump_only=True)
    name_en = ma.fields.String(dump_only=True)
    court_name = ma.fields.String(dump_only=True, allow_none=True)
    court_name_kk = ma.fields.String(dump_only=True, allow_none=True)


class InstitutionSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    kind = enum_field(InstitutionKind, required=True)
    region = ma.fields.String(required=True, attribute="region_code")
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    capacity = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=0, max=100_000))


class PartySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    name_kk = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=255),
        metadata={"description": "the name in Kazakh, for Kazakh letters"},
    )
    bin = ma.fields.String(allow_none=True, metadata={"description": "12-digit BIN/IIN"})
    kind = enum_field(PartyKind, required=True)
    email = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=64))
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    address_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    head_position = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    head_position_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    head_name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    region = ma.fields.String(allow_none=True, attribute="region_code")


class StageSchema(ma.Schema):
    kind = enum_field(StageKind, required=True)
    planned_on = StrictDate(allow_none=True)
    actual_on = StrictDate(allow_none=True)
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))


class ProjectSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    kind = enum_field(ProjectKind, required=True)
    status = enum_field(ProjectStatus)
    region = ma.fields.String(required=True, attribute="region_code")
    institution = IdField(allow_none=True, attribute="institution_id")
    investor_id = IdField(allow_none=True)
    capacity = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=100_000))
    land_area_ha = DecimalText(allow_none=True)
    estimated_cost = MoneyField(allow_none=True)
    term_years = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=99))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20_000))
    stages = ma.fields.List(ma.fields.Nested(StageSchema))
    is_demo = ma.fields.Boolean(dump_only=True)


class SiteSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    arrangement = enum_field(Arrangement, required=True)
    status = enum_field(SiteStatus)
    institution = IdField(required=True, attribute="institution_id")
    institution_name = ma.fields.Function(lambda s: s.institution.name, dump_only=True)
    operator_id = IdField(allow_none=True)
    region = ma.fields.String(
        attribute="region_code", metadata={"description": "follows from the institution"}
    )
    activity = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    area_m2 = DecimalText(places=2, allow_none=True)
    employed = ma.fields.Integer(validate=ma.validate.Range(min=0, max=100_000))
    is_demo = ma.fields.Boolean(dump_only=True)


class PenaltySchema(ma.Schema):
    rate_percent_per_day = DecimalText(required=True)
    base = enum_field(PenaltyBase, required=True)
    cap_percent = DecimalText(allow_none=True, load_default=None)


class ResponsePeriodSchema(ma.Schema):
    days = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=365))
    working = ma.fields.Boolean(required=True)
    from_receipt = ma.fields.Boolean(
        metadata={
            "description": "the period runs from the day the contractor received a claim "
            "(default false: from the day it is sent)"
        }
    )


class InstallmentSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    due_on = StrictDate(required=True)
    amount = MoneyField(required=True)
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    paid_on = StrictDate(allow_none=True)
    paid_amount = MoneyField(allow_none=True)


class ContractSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    signed_on = StrictDate(required=True)
    customer_id = IdField(required=True)
    contractor_id = IdField(required=True)
    project_id = IdField(allow_none=True)
    site_id = IdField(allow_none=True)
    region = ma.fields.String(dump_only=True, attribute="region_code")
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    subject_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    total_amount = MoneyField(required=True)
    currency = ma.fields.String(dump_only=True)
    starts_on = StrictDate(allow_none=True)
    ends_on = StrictDate(allow_none=True)
    status = enum_field(ContractStatus)
    penalty = ma.fields.Nested(PenaltySchema)
    penalty_clause_no = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=32),
        metadata={"description": "the number of the penalty clause, e.g. 7.2"},
    )
    penalty_clause = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=255),
        metadata={"description": "what the clause is (its heading), cited after its number"},
    )
    penalty_clause_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255))
    response_period = ma.fields.Nested(ResponsePeriodSchema)
    grace_working_days = ma.fields.Integer(validate=ma.validate.Range(min=0, max=60))
    officer = ma.fields.String(allow_none=True, metadata={"description": "the officer's e-mail"})
    installments = ma.fields.List(ma.fields.Nested(InstallmentSchema))
    is_demo = ma.fields.Boolean(dump_only=True)

    @ma.pre_dump
    def _shape(self, contract, **kwargs):
        # Output mirrors the input: grouped penalty terms and response period.
        return {
            **{
                c: getattr(contract, c)
                for c in (
                    "id",
                    "number",
                    "signed_on",
                    "customer_id",
                    "contractor_id",
                    "project_id",
                    "site_id",
                    "region_code",
                    "subject",
                    "subject_kk",
                    "total_amount",
                    "currency",
                    "starts_on",
                    "ends_on",
                    "status",
                    "penalty_clause_no",
                    "penalty_clause",
                    "penalty_clause_kk",
                    "grace_working_days",
                    "is_demo",
                )
            },
            "penalty": {
                "rate_percent_per_day": contract.penalty_rate_percent,
                "base": contract.penalty_base,
                "cap_percent": contract.penalty_cap_percent,
            },
            "response_period": {
                "days": contract.response_days,
                "working": contract.response_working,
                "from_receipt": contract.response_from_receipt,
            },
            "officer": contract.officer.email if contract.officer else None,
            "installments": contract.installments,
        }


class RelativeSchema(ma.Schema):
    milestone_id = IdField(metadata={"description": "count from this milestone's met date"})
    claim_id = IdField(metadata={"description": "or from the day this claim is sent"})
    amount = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=3650))
    unit = enum_field(RelativeUnit, required=True)


class MilestoneSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    contract_id = ma.fields.Integer(dump_only=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    title_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20_000))
    type = enum_field(MilestoneType, required=True)
    code = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=64))
    obligor = enum_field(Obligor)
    responsible = ma.fields.String(
        allow_none=True, metadata={"description": "the responsible user's e-mail"}
    )
    value = MoneyField(allow_none=True)
    due_on = StrictDate(allow_none=True)
    relative = ma.fields.Nested(RelativeSchema, allow_none=True)
    reason = ma.fields.String(
        load_only=True,
        allow_none=True,
        validate=ma.validate.Length(max=2000),
        metadata={"description": "required when due_on changes"},
    )
    met_on = StrictDate(allow_none=True)
    status = enum_field(MilestoneStatus)
    status_note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))
    effective_due_on = StrictDate(dump_only=True, allow_none=True)
    state = ma.fields.String(dump_only=True, metadata={"enum": [m.value for m in MilestoneState]})
    days_late = ma.fields.Integer(dump_only=True)
    explanation = ma.fields.String(dump_only=True)
    due_date_changes = ma.fields.List(ma.fields.Dict(), dump_only=True)

    @ma.pre_dump
    def _with_timing(self, milestone, **kwargs):
        if isinstance(milestone, dict):
            return milestone
        return milestone_payload(milestone, clock.today())


def milestone_payload(milestone: Milestone, as_of: date) -> dict:
    """A milestone as the API shows it, with its timing on `as_of`."""
    t = timing(
        get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=as_of,
    )
    return {
        **{
            c: getattr(milestone, c)
            for c in (
                "id",
                "contract_id",
                "title",
                "title_kk",
                "description",
                "type",
                "code",
                "obligor",
                "value",
                "due_on",
                "met_on",
                "status",
                "status_note",
            )
        },
        "responsible": milestone.responsible.email if milestone.responsible else None,
        "relative": (
            {
                "milestone_id": milestone.relative_to_id,
                "claim_id": milestone.relative_to_claim_id,
                "amount": milestone.relative_amount,
                "unit": milestone.relative_unit,
            }
            if milestone.is_relative
            else None
        ),
        "effective_due_on": t.effective_due_on,
        "state": t.state.value,
        "days_late": t.days_late,
        "explanation": t.explanation,
        "due_date_changes": [
            {
                "old_due_on": ch.old_due_on.isoformat() if ch.old_due_on else None,
                "new_due_on": ch.new_due_on.isoformat() if ch.new_due_on else None,
                "reason": ch.reason,
                "changed_at": ch.changed_at.isoformat(),
            }
            for ch in milestone.due_date_changes
        ],
    }


class ListArgs(PageArgs):
    q = ma.fields.String(validate=ma.validate.Length(max=200))
    region = ma.fields.String(validate=ma.validate.Length(max=8))


class PartyListArgs(PageArgs):
    q = ma.fields.String(validate=ma.validate.Length(max=200))
    kind = enum_field(PartyKind)


class SiteListArgs(ListArgs):
    arrangement = enum_field(Arrangement)


class ContractListArgs(ListArgs):
    status = enum_field(ContractStatus)
    project_id = QueryId()
    site_id = QueryId()


class DeadlineArgs(ma.Schema):
    as_of = StrictDate()
    state = ma.fields.String(validate=ma.validate.OneOf(["overdue", "upcoming"]))
    within_days = ma.fields.Integer(validate=ma.validate.Range(min=0, max=3660))
    contract_id = QueryId()
    region = ma.fields.String(validate=ma.validate.Length(max=8))


# --- helpers ----------------------------------------------------------------------------------


def _search(stmt, q: str | None, *columns):
    """`q` in any of `columns` (records' `search_text`), folded as the pages search."""
    if q and q.strip():
        stmt = stmt.where(sa.or_(*[contains(c, q.strip()[:200]) for c in columns]))
    return stmt


# --- resources --------------------------------------------------------------------------------


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
        stmt = _search(stmt, args.get("q"), Institution.search_text)
        if args.get("region"):
            stmt = stmt.where(Institution.region_code == args["region"])
        return page_of(stmt, args)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(InstitutionSchema)
    @blp.response(201, InstitutionSchema)
    def post(self, data):
        user = api_user()
        data["region"] = data.pop("region_code", None)
        return run_service(services.save_institution, user, data)


@blp.route("/parties")
class Parties(MethodView):
    @requires(Permission.READ)
    @blp.arguments(PartyListArgs, location="query")
    @blp.response(200, PartySchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        stmt = _search(sa.select(Party).order_by(Party.name), args.get("q"), Party.search_text)
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
        return run_service(services.save_party, user, data)


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
        return run_service(services.save_party, user, data, party)


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
        stmt = _search(stmt.order_by(Project.id), args.get("q"), Project.search_text)
        if args.get("region"):
            stmt = stmt.where(Project.region_code == args["region"])
        return page_of(stmt, args)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(ProjectSchema)
    @blp.response(201, ProjectSchema)
    def post(self, data):
        user = api_user()
        return run_service(services.save_project, user, _project_data(data))


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
        return run_service(services.save_project, user, _project_data(data), project)


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
        stmt = _search(stmt, args.get("q"), ProductionSite.search_text)
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
        return run_service(services.save_site, user, _site_data(data))


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
        return run_service(services.save_site, user, _site_data(data), site)


@blp.route("/contracts")
class Contracts(MethodView):
    @requires(Permission.READ)
    @blp.arguments(ContractListArgs, location="query")
    @blp.response(200, ContractSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        user = api_user()
        stmt = scope(
            sa.select(Contract).options(
                selectinload(Contract.installments), selectinload(Contract.officer)
            ),
            user,
            Contract.region_code,
        ).order_by(Contract.id)
        if args.get("q") and args["q"].strip():
            stmt = stmt.where(contract_matches(args["q"].strip()[:200]))
        for key, column in (
            ("region", Contract.region_code),
            ("status", Contract.status),
            ("project_id", Contract.project_id),
            ("site_id", Contract.site_id),
        ):
            if args.get(key) is not None:
                stmt = stmt.where(column == args[key])
        return page_of(stmt, args)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(ContractSchema)
    @blp.response(201, ContractSchema)
    def post(self, data):
        user = api_user()
        return run_service(services.save_contract, user, data)


@blp.route("/contracts/<id:contract_id>")
class ContractItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, ContractSchema)
    def get(self, contract_id):
        return get_in_scope(Contract, contract_id)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(ContractSchema(partial=True))
    @blp.response(200, ContractSchema)
    def patch(self, data, contract_id):
        user = api_user()
        contract = get_in_scope(Contract, contract_id)
        return run_service(services.save_contract, user, data, contract)


@blp.route("/contracts/<id:contract_id>/milestones")
class ContractMilestones(MethodView):
    @requires(Permission.READ)
    @blp.response(200, MilestoneSchema(many=True))
    def get(self, contract_id):
        return get_in_scope(Contract, contract_id).milestones

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(MilestoneSchema)
    @blp.response(201, MilestoneSchema)
    def post(self, data, contract_id):
        user = api_user()
        contract = get_in_scope(Contract, contract_id)
        return run_service(services.save_milestone, user, contract, data)


@blp.route("/milestones/<id:milestone_id>")
class MilestoneItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, MilestoneSchema)
    def get(self, milestone_id):
        return get_in_scope(Milestone, milestone_id)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(MilestoneSchema(partial=True))
    @blp.response(200, MilestoneSchema)
    def patch(self, data, milestone_id):
        user = api_user()
        milestone = get_in_scope(Milestone, milestone_id)
        return run_service(services.save_milestone, user, milestone.contract, data, milestone)


class DeadlineSchema(MilestoneSchema):
    contract_number = ma.fields.String(dump_only=True)
    region = ma.fields.String(dump_only=True)


@blp.route("/deadlines")
class Deadlines(MethodView):
    @requires(Permission.READ)
    @blp.arguments(DeadlineArgs, location="query")
    @blp.response(200, DeadlineSchema(many=True))
    def get(self, args):
        """Open milestones with effective due date, state and days late as of `as_of` (today)."""
        user = api_user()
        from ppp_tracker.deadlines.queries import deadlines

        as_of: date = args.get("as_of") or clock.today()
        rows = deadlines(
            user,
            as_of=as_of,
            state=args.get("state"),
            within_days=args.get("within_days"),
            contract_id=args.get("contract_id"),
            region=args.get("region"),
        )
        return [
            {
                **milestone_payload(m, as_of),
                "contract_number": m.contract.number,
                "region": m.contract.region_code,
            }
            for m in rows
        ]
