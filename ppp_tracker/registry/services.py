"""The registry's rules: creating and changing parties, projects, sites, contracts, milestones.

Every function takes the acting user and plain, already-parsed values (dates, Decimals, enum
strings) under the names the API uses; it checks links, scope and consistency, collects every
error before raising `Invalid`, flushes and never commits.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import in_scope
from ppp_tracker.auth.models import Role, User
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import relative_due, relative_phrase
from ppp_tracker.core.errors import Forbidden, Invalid
from ppp_tracker.core.regions import Region
from ppp_tracker.core.validation import (
    Errors,
    check_date_range,
    check_text,
    normalise_dashes,
    safe_filename,
)
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    ALLOWED_DOCUMENT_TYPES,
    Arrangement,
    ContractStatus,
    DocumentType,
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
from ppp_tracker.registry.identifiers import bin_problem
from ppp_tracker.registry.models import (
    Contract,
    Document,
    DueDateChange,
    Installment,
    Institution,
    Milestone,
    Party,
    ProductionSite,
    Project,
    ProjectStage,
)

MAX_ID = 2**31 - 1
MAX_AMOUNT = Decimal("10") ** 14  # 100 trillion tenge: far above any contract here


# --- shared checks -------------------------------------------------------------------------


def _enum(errors: Errors, field: str, value, enum_cls, *, required: bool = True):
    if value is None or value == "":
        if required:
            errors.add(field, _("This field is required."))
        return None
    try:
        return enum_cls(value)
    except ValueError:
        errors.add(
            field,
            _(
                "Unknown value %(value)s; allowed: %(allowed)s.",
                value=repr(value),
                allowed=", ".join(m.value for m in enum_cls),
            ),
        )
        return None


def _money(errors: Errors, field: str, value, *, required: bool = False, positive=False):
    if value is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, Decimal):
        errors.add(field, _("Must be an amount with at most two decimals."))
        return None
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        errors.add(field, _("The amount is implausibly large."))
        return None
    if value != value.quantize(Decimal("0.01")):
        errors.add(field, _("At most two decimals (whole tiyn)."))
        return None
    if value < 0 or (positive and value == 0):
        errors.add(
            field, _("Must be greater than zero.") if positive else _("Must not be negative.")
        )
        return None
    if value >= MAX_AMOUNT:
        errors.add(field, _("The amount is implausibly large."))
        return None
    return value


def _int(errors: Errors, field: str, value, *, minimum=0, maximum=10**9, required=False):
    if value is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, _("Must be a whole number."))
        return None
    if not minimum <= value <= maximum:
        errors.add(field, _("Must be between %(lo)s and %(hi)s.", lo=minimum, hi=maximum))
        return None
    return value


def _decimal(errors: Errors, field: str, value, *, minimum=Decimal(0), maximum=None, places=4):
    if value is None:
        return None
    if not isinstance(value, Decimal):
        errors.add(field, _("Must be a number."))
        return None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
        errors.add(field, _("Must be a number."))
        return None
    if value.as_tuple().exponent < -places:
        errors.add(field, _("At most %(n)d decimals.", n=places))
        return None
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            errors.add(field, _("Must not be negative."))
        else:
            errors.add(field, _("Must be between %(lo)s and %(hi)s.", lo=minimum, hi=maximum))
        return None
    return value


def _date(errors: Errors, field: str, value, *, required=False) -> date | None:
    if value is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, date):
        errors.add(field, _("Must be a date as YYYY-MM-DD."))
        return None
    check_date_range(errors, field, value)
    return value


def _region(errors: Errors, field: str, code, user: User, *, required=True) -> str | None:
    if code is None or code == "":
        if required:
            errors.add(field, _("This field is required."))
        return None
    if db.session.get(Region, code) is None:
        errors.add(field, _("Unknown region code %(code)s.", code=code))
        return None
    if not in_scope(user, code):
        errors.add(field, _("This region is outside your scope."))
        return None
    return code


def _linked(errors: Errors, field: str, model, ident, user: User | None, *, required=False):
    """The linked record if it exists (and, for regional records, lies in the user's scope)."""
    if ident is None:
        if required:
            errors.add(field, _("This field is required."))
        return None
    if isinstance(ident, bool) or not isinstance(ident, int):
        errors.add(field, _("Must be the id of an existing record."))
        return None
    obj = db.session.get(model, ident) if 1 <= ident <= MAX_ID else None
    if obj is None:
        errors.add(field, _("No record with id %(id)s.", id=ident))
        return None
    region = getattr(obj, "region_code", None)
    if user is not None and model is not Party and not in_scope(user, region):
        errors.add(field, _("No record with id %(id)s.", id=ident))
        return None
    return obj


def _user_by_email(errors: Errors, field: str, email, region_code: str | None):
    if email is None or email == "":
        return None
    user = db.session.scalar(sa.select(User).where(User.email == str(email).strip().lower()))
    if user is None or not user.active:
        errors.add(field, _("No active user with the e-mail %(email)s.", email=email))
        return None
    if region_code is not None and not in_scope(user, region_code):
        errors.add(field, _("This user works in another region."))
        return None
    return user


def _set(obj, values: dict[str, Any]) -> None:
    for key, value in values.items():
        setattr(obj, key, value)


# --- institutions and parties -----------------------------------------------------------------


def save_institution(user: User, data: dict, institution: Institution | None = None) -> Institution:
    errors = Errors()
    partial = institution is not None
    values: dict[str, Any] = {}
    if not partial or "name" in data:
        values["name"] = check_text(errors, "name", data.get("name"), required=True, max_length=255)
    if not partial or "kind" in data:
        values["kind"] = _enum(errors, "kind", data.get("kind"), InstitutionKind)
    if not partial or "region" in data:
        values["region_code"] = _region(errors, "region", data.get("region"), user)
    if "address" in data:
        values["address"] = check_text(errors, "address", data.get("address"), max_length=255)
    if "capacity" in data:
        values["capacity"] = _int(errors, "capacity", data.get("capacity"), maximum=100_000)
    errors.raise_if_any()
    if institution is None:
        institution = Institution()
        db.session.add(institution)
    _set(institution, values)
    db.session.flush()
    return institution


def party_regions(party_id: int) -> set[str]:
    """The regions whose records use the party: contracts (customer or contractor), projects
    (investor) and production sites (operator)."""
    uses = sa.union(
        sa.select(Contract.region_code).where(
            sa.or_(Contract.customer_id == party_id, Contract.contractor_id == party_id)
        ),
        sa.select(Project.region_code).where(Project.investor_id == party_id),
        sa.select(ProductionSite.region_code).where(ProductionSite.operator_id == party_id),
    )
    return set(db.session.scalars(sa.select(uses.subquery().c[0])))


def created_by(user: User, entity_type: str, entity_id: int) -> bool:
    """Whether the audit log names `user` as the creator of the record."""
    return (
        db.session.scalar(
            sa.select(AuditEvent.id).where(
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id == str(entity_id),
                AuditEvent.action == "create",
                AuditEvent.actor_id == user.id,
            )
        )
        is not None
    )


def party_change_refusal(user: User, party: Party) -> str | None:
    """Why `user` may not change the counterparty, or None.

    A counterparty is shared by every region that uses it, and its name and requisites go into
    their letters: an administrator or a user of every region may change it; a regional user
    only one used by their own region's records alone, or one nobody uses yet that they created.
    """
    if user.region_code is None or Role(user.role) == Role.ADMIN:
        return None
    regions = party_regions(party.id)
    if regions - {user.region_code}:
        return _(
            "This counterparty is also used by contracts of other regions (%(regions)s): only an "
            "administrator or a user of all regions may change it.",
            regions=", ".join(sorted(regions - {user.region_code})),
        )
    if not regions and not created_by(user, "parties", party.id):
        return _(
            "This counterparty is not used by your region's records and was created by someone "
            "else: only an administrator or a user of all regions may change it."
        )
    return None


def check_party_change(user: User, party: Party) -> None:
    refusal = party_change_refusal(user, party)
    if refusal is not None:
        raise Forbidden(refusal)


def save_party(user: User, data: dict, party: Party | None = None) -> Party:
    if party is not None:
        check_party_change(user, party)
    errors = Errors()
    partial = party is not None
    values: dict[str, Any] = {}
    if not partial or "name" in data:
        values["name"] = check_text(errors, "name", data.get("name"), required=True, max_length=255)
    if not partial or "kind" in data:
        values["kind"] = _enum(errors, "kind", data.get("kind"), PartyKind)
    if "bin" in data:
        raw = data.get("bin")
        if raw in (None, ""):
            values["bin"] = None
        else:
            raw = str(raw).strip().replace(" ", "")
            problem = bin_problem(raw)
            if problem == "must be exactly 12 digits":
                errors.add("bin", _("A BIN/IIN is exactly 12 digits."))
            elif problem:
                errors.add("bin", _("This BIN/IIN is not valid: the control digit does not match."))
            else:
                clash = db.session.scalar(sa.select(Party.id).where(Party.bin == raw))
                if clash is not None and (party is None or clash != party.id):
                    errors.add("bin", _("Another party (id %(id)s) has this BIN/IIN.", id=clash))
                values["bin"] = raw
    if "email" in data:
        email = check_text(errors, "email", data.get("email"), max_length=255)
        if email is not None and ("@" not in email or " " in email or email.startswith("@")):
            errors.add("email", _("Not a valid e-mail address."))
        values["email"] = email
    for field, length in (
        ("name_kk", 255),
        ("phone", 64),
        ("address", 500),
        ("address_kk", 500),
        ("head_position", 255),
        ("head_position_kk", 255),
        ("head_name", 255),
    ):
        if field in data:
            values[field] = check_text(errors, field, data.get(field), max_length=length)
    if "region" in data:
        code = data.get("region")
        if code in (None, ""):
            values["region_code"] = None
        elif db.session.get(Region, code) is None:
            errors.add("region", _("Unknown region code %(code)s.", code=code))
        elif not in_scope(user, code):
            errors.add("region", _("This region is outside your scope."))
        else:
            values["region_code"] = code
    errors.raise_if_any()
    if party is None:
        party = Party()
        db.session.add(party)
    _set(party, values)
    db.session.flush()
    return party


# --- projects and stages ------------------------------------------------------------------


def save_project(user: User, data: dict, project: Project | None = None) -> Project:
    errors = Errors()
    partial = project is not None
    values: dict[str, Any] = {}
    if not partial or "title" in data:
        values["title"] = check_text(errors, "title", data.get("title"), required=True)
    if "title_kk" in data:
        values["title_kk"] = check_text(errors, "title_kk", data.get("title_kk"))
    if not partial or "kind" in data:
        values["kind"] = _enum(errors, "kind", data.get("kind"), ProjectKind)
    if "status" in data:
        values["status"] = _enum(errors, "status", data.get("status"), ProjectStatus)
    if not partial or "region" in data:
        values["region_code"] = _region(errors, "region", data.get("region"), user)
    region = values.get("region_code") or (project.region_code if project else None)
    if "institution" in data:
        inst = _linked(errors, "institution", Institution, data.get("institution"), user)
        if inst is not None and region is not None and inst.region_code != region:
            errors.add("institution", _("The institution is in another region."))
        values["institution_id"] = inst.id if inst else None
    if "investor_id" in data:
        investor = _linked(errors, "investor_id", Party, data.get("investor_id"), user)
        values["investor_id"] = investor.id if investor else None
    if "capacity" in data:
        values["capacity"] = _int(
            errors, "capacity", data.get("capacity"), minimum=1, maximum=100_000
        )
    if "land_area_ha" in data:
        values["land_area_ha"] = _decimal(
            errors, "land_area_ha", data.get("land_area_ha"), maximum=Decimal(1_000_000)
        )
    if "estimated_cost" in data:
        values["estimated_cost"] = _money(errors, "estimated_cost", data.get("estimated_cost"))
    if "term_years" in data:
        values["term_years"] = _int(
            errors, "term_years", data.get("term_years"), minimum=1, maximum=99
        )
    if "description" in data:
        values["description"] = check_text(
            errors, "description", data.get("description"), max_length=20_000
        )
    stages = None
    if "stages" in data and data["stages"] is not None:
        stages = _check_stages(errors, data["stages"])
    errors.raise_if_any()
    if project is None:
        project = Project()
        db.session.add(project)
    _set(project, values)
    if stages is not None:
        for item in stages:
            set_stage(project, **item)
    db.session.flush()
    return project


def _check_stages(errors: Errors, items) -> list[dict]:
    if not isinstance(items, list):
        errors.add("stages", _("Must be a list of stages."))
        return []
    seen = set()
    out = []
    for index, item in enumerate(items):
        field = f"stages.{index}"
        if not isinstance(item, dict):
            errors.add(field, _("Must be an object."))
            continue
        before = len(errors.errors)
        kind = _enum(errors, f"{field}.kind", item.get("kind"), StageKind)
        planned = _date(errors, f"{field}.planned_on", item.get("planned_on"))
        actual = _date(errors, f"{field}.actual_on", item.get("actual_on"))
        note = check_text(errors, f"{field}.note", item.get("note"), max_length=5000)
        if kind in seen:
            errors.add(f"{field}.kind", _("This stage is listed twice."))
        seen.add(kind)
        if actual is not None and actual > clock.today():
            errors.add(f"{field}.actual_on", _("An actual date cannot be in the future."))
        if len(errors.errors) == before and kind is not None:
            out.append({"kind": kind, "planned_on": planned, "actual_on": actual, "note": note})
    return out


def set_stage(
    project: Project,
    kind: StageKind,
    planned_on: date | None = None,
    actual_on: date | None = None,
    note: str | None = None,
) -> ProjectStage:
    kind = StageKind(kind)
    stage = next((s for s in project.stages if s.kind == kind), None)
    if stage is None:
        stage = ProjectStage(kind=kind, position=kind.order)
        project.stages.append(stage)
    stage.planned_on = planned_on
    stage.actual_on = actual_on
    stage.note = note
    return stage


# --- production sites ---------------------------------------------------------------------


def save_site(user: User, data: dict, site: ProductionSite | None = None) -> ProductionSite:
    errors = Errors()
    partial = site is not None
    values: dict[str, Any] = {}
    if not partial or "name" in data:
        values["name"] = check_text(errors, "name", data.get("name"), required=True, max_length=255)
    if not partial or "arrangement" in data:
        values["arrangement"] = _enum(errors, "arrangement", data.get("arrangement"), Arrangement)
    if "status" in data:
        values["status"] = _enum(errors, "status", data.get("status"), SiteStatus)
    if not partial or "institution" in data:
        inst = _linked(
            errors, "institution", Institution, data.get("institution"), user, required=True
        )
        if inst is not None:
            values["institution_id"] = inst.id
            values["region_code"] = inst.region_code
            if data.get("region") not in (None, "", inst.region_code):
                errors.add(
                    "region",
                    _("The region follows from the institution (%(code)s).", code=inst.region_code),
                )
    elif data.get("region") not in (None, "", site.region_code):
        errors.add(
            "region",
            _("The region follows from the institution (%(code)s).", code=site.region_code),
        )
    if "operator_id" in data:
        operator = _linked(errors, "operator_id", Party, data.get("operator_id"), user)
        values["operator_id"] = operator.id if operator else None
    if "activity" in data:
        values["activity"] = check_text(errors, "activity", data.get("activity"), max_length=255)
    if "area_m2" in data:
        values["area_m2"] = _decimal(
            errors, "area_m2", data.get("area_m2"), maximum=Decimal(10**7), places=2
        )
    if not partial or "employed" in data:
        employed = data.get("employed", 0)
        values["employed"] = _int(
            errors, "employed", 0 if employed is None else employed, maximum=100_000
        )
    errors.raise_if_any()
    if site is None:
        site = ProductionSite()
        db.session.add(site)
    _set(site, values)
    db.session.flush()
    return site


# --- contracts and installments -------------------------------------------------------------


def save_contract(user: User, data: dict, contract: Contract | None = None) -> Contract:
    errors = Errors()
    partial = contract is not None
    values: dict[str, Any] = {}
    if not partial or "number" in data:
        number = check_text(errors, "number", data.get("number"), required=True, max_length=64)
        values["number"] = normalise_dashes(number) if number else None
    if not partial or "signed_on" in data:
        signed = _date(errors, "signed_on", data.get("signed_on"), required=True)
        if signed is not None and signed > clock.today():
            errors.add("signed_on", _("A contract cannot be signed in the future."))
        values["signed_on"] = signed
    for field in ("customer_id", "contractor_id"):
        if not partial or field in data:
            party = _linked(errors, field, Party, data.get(field), user, required=True)
            values[field] = party.id if party else None
    if values.get("customer_id") and values.get("customer_id") == values.get("contractor_id"):
        errors.add("contractor_id", _("The contractor must differ from the customer."))
    if not partial or "project_id" in data or "site_id" in data:
        _contract_owner(errors, user, data, values, contract)
    if not partial or "subject" in data:
        values["subject"] = check_text(
            errors, "subject", data.get("subject"), required=True, max_length=5000
        )
    if not partial or "total_amount" in data:
        values["total_amount"] = _money(
            errors, "total_amount", data.get("total_amount"), required=True, positive=True
        )
    for field in ("starts_on", "ends_on"):
        if field in data:
            values[field] = _date(errors, field, data.get(field))
    starts = values.get("starts_on", contract.starts_on if contract else None)
    ends = values.get("ends_on", contract.ends_on if contract else None)
    if starts and ends and ends < starts:
        errors.add("ends_on", _("The end must not be before the start."))
    if "status" in data:
        values["status"] = _enum(errors, "status", data.get("status"), ContractStatus)
    if "penalty" in data and data["penalty"] is not None:
        _penalty_terms(errors, data["penalty"], values)
    if "response_period" in data and data["response_period"] is not None:
        period = data["response_period"]
        if not isinstance(period, dict):
            errors.add("response_period", _("Must be an object with days and working."))
        else:
            if "days" in period:
                values["response_days"] = _int(
                    errors,
                    "response_period.days",
                    period.get("days"),
                    minimum=1,
                    maximum=365,
                    required=True,
                )
            if "working" in period:
                if not isinstance(period.get("working"), bool):
                    errors.add("response_period.working", _("Must be true or false."))
                else:
                    values["response_working"] = period["working"]
            if "from_receipt" in period:
                if not isinstance(period.get("from_receipt"), bool):
                    errors.add("response_period.from_receipt", _("Must be true or false."))
                else:
                    values["response_from_receipt"] = period["from_receipt"]
    if "grace_working_days" in data:
        values["grace_working_days"] = _int(
            errors, "grace_working_days", data.get("grace_working_days"), maximum=60, required=True
        )
    for field, length in (
        ("subject_kk", 5000),
        ("penalty_clause", 255),
        ("penalty_clause_kk", 255),
    ):
        if field in data:
            values[field] = check_text(errors, field, data.get(field), max_length=length)
    if "penalty_clause_no" in data:
        clause = check_text(
            errors, "penalty_clause_no", data.get("penalty_clause_no"), max_length=32
        )
        if clause is not None:
            clause = normalise_dashes(clause).removeprefix("п.").strip()
            if not clause or not clause[0].isdigit():
                errors.add(
                    "penalty_clause_no", _("Give the clause's number as in the contract, e.g. 7.2.")
                )
        values["penalty_clause_no"] = clause
    if "assumptions" in data:
        values["assumptions"] = (
            check_text(errors, "assumptions", data.get("assumptions"), max_length=5000) or None
        )
    region = values.get("region_code") or (contract.region_code if contract else None)
    if "officer" in data:
        officer = _user_by_email(errors, "officer", data.get("officer"), region)
        values["officer_id"] = officer.id if officer else None
    installments = None
    if "installments" in data and data["installments"] is not None:
        installments = _check_installments(errors, data["installments"])
        total = values.get("total_amount") or (contract.total_amount if contract else None)
        if total is not None and installments and sum(i["amount"] for i in installments) > total:
            errors.add(
                "installments", _("The installments add up to more than the contract total.")
            )
    if not errors and values.get("number") and values.get("customer_id"):
        clash = db.session.scalar(
            sa.select(Contract.id).where(
                Contract.number == values["number"],
                Contract.customer_id == values["customer_id"],
                Contract.signed_on
                == values.get("signed_on", contract.signed_on if contract else None),
            )
        )
        if clash is not None and (contract is None or clash != contract.id):
            errors.add(
                "number",
                _("This customer already has contract No. %(n)s of that date.", n=values["number"]),
            )
    errors.raise_if_any()
    if contract is None:
        contract = Contract()
        db.session.add(contract)
    _set(contract, values)
    if installments is not None:
        contract.installments.clear()
        for item in installments:
            contract.installments.append(Installment(**item))
    db.session.flush()
    return contract


def _contract_owner(errors: Errors, user: User, data: dict, values: dict, contract) -> None:
    project_id = data.get("project_id")
    site_id = data.get("site_id")
    if contract is not None:
        project_id = data.get("project_id", contract.project_id if "site_id" not in data else None)
        site_id = data.get("site_id", contract.site_id if "project_id" not in data else None)
    if (project_id is None) == (site_id is None):
        errors.add("project_id", _("Give either a project or a production site (exactly one)."))
        return
    if project_id is not None:
        project = _linked(errors, "project_id", Project, project_id, user)
        if project is not None:
            values.update(project_id=project.id, site_id=None, region_code=project.region_code)
    else:
        site = _linked(errors, "site_id", ProductionSite, site_id, user)
        if site is not None:
            values.update(site_id=site.id, project_id=None, region_code=site.region_code)
    if (
        contract is not None
        and "region_code" in values
        and values["region_code"] != contract.region_code
    ) and not in_scope(user, values["region_code"]):
        errors.add("project_id", _("This region is outside your scope."))


def _penalty_terms(errors: Errors, penalty, values: dict) -> None:
    if not isinstance(penalty, dict):
        errors.add(
            "penalty", _("Must be an object with rate_percent_per_day, base and cap_percent.")
        )
        return
    if "rate_percent_per_day" in penalty:
        rate = _decimal(
            errors,
            "penalty.rate_percent_per_day",
            penalty.get("rate_percent_per_day"),
            maximum=Decimal(100),
        )
        if rate is None and "penalty.rate_percent_per_day" not in errors:
            errors.add("penalty.rate_percent_per_day", _("This field is required."))
        values["penalty_rate_percent"] = rate
    if "base" in penalty:
        values["penalty_base"] = _enum(errors, "penalty.base", penalty.get("base"), PenaltyBase)
    if "cap_percent" in penalty:
        cap = _decimal(
            errors, "penalty.cap_percent", penalty.get("cap_percent"), maximum=Decimal(100)
        )
        if cap is not None and cap == 0:
            errors.add(
                "penalty.cap_percent",
                _("A cap of zero would forbid any penalty; leave it empty for no cap."),
            )
        values["penalty_cap_percent"] = cap


def _check_installments(errors: Errors, items) -> list[dict]:
    if not isinstance(items, list):
        errors.add("installments", _("Must be a list."))
        return []
    out = []
    for index, item in enumerate(items):
        field = f"installments.{index}"
        if not isinstance(item, dict):
            errors.add(field, _("Must be an object."))
            continue
        before = len(errors.errors)
        due = _date(errors, f"{field}.due_on", item.get("due_on"), required=True)
        amount = _money(errors, f"{field}.amount", item.get("amount"), required=True, positive=True)
        description = check_text(errors, f"{field}.description", item.get("description"))
        paid_on = _date(errors, f"{field}.paid_on", item.get("paid_on"))
        paid_amount = _money(errors, f"{field}.paid_amount", item.get("paid_amount"))
        if paid_amount is not None and paid_on is None:
            errors.add(f"{field}.paid_on", _("Give the date of the payment."))
        if len(errors.errors) == before:
            out.append(
                {
                    "due_on": due,
                    "amount": amount,
                    "description": description,
                    "paid_on": paid_on,
                    "paid_amount": paid_amount,
                }
            )
    return out


def save_installment(
    user: User, contract: Contract, data: dict, installment: Installment | None = None
) -> Installment:
    errors = Errors()
    item = _check_installments(errors, [data])
    if errors:
        raise Invalid({k.replace("installments.0.", ""): v for k, v in errors.errors.items()})
    values = item[0]
    others = sum(i.amount for i in contract.installments if i is not installment)
    if others + values["amount"] > contract.total_amount:
        raise Invalid.one(
            "amount", _("The installments would add up to more than the contract total.")
        )
    if installment is None:
        installment = Installment(contract=contract)
        db.session.add(installment)
    _set(installment, values)
    db.session.flush()
    return installment


# --- milestones -----------------------------------------------------------------------------


def _would_cycle(milestone: Milestone | None, anchor: Milestone) -> bool:
    seen = set()
    node: Milestone | None = anchor
    while node is not None:
        if milestone is not None and node.id == milestone.id:
            return True
        if node.id in seen:
            return True
        seen.add(node.id)
        node = node.relative_to
    return False


def save_milestone(
    user: User, contract: Contract, data: dict, milestone: Milestone | None = None
) -> Milestone:
    """Create or change a milestone; a change of `due_on` needs a `reason` and is kept."""
    errors = Errors()
    partial = milestone is not None
    values: dict[str, Any] = {}
    if not partial or "title" in data:
        values["title"] = check_text(errors, "title", data.get("title"), required=True)
    if "title_kk" in data:
        values["title_kk"] = check_text(errors, "title_kk", data.get("title_kk"))
    if not partial or "type" in data:
        values["type"] = _enum(errors, "type", data.get("type"), MilestoneType)
    if "description" in data:
        values["description"] = check_text(
            errors, "description", data.get("description"), max_length=20_000
        )
    if "code" in data:
        values["code"] = check_text(errors, "code", data.get("code"), max_length=64)
    if "obligor" in data:
        values["obligor"] = _enum(errors, "obligor", data.get("obligor"), Obligor)
    if "value" in data:
        values["value"] = _money(errors, "value", data.get("value"))
        if values["value"] is not None and values["value"] > contract.total_amount:
            errors.add("value", _("The value must not exceed the contract total."))
    if "responsible" in data:
        responsible = _user_by_email(
            errors, "responsible", data.get("responsible"), contract.region_code
        )
        values["responsible_id"] = responsible.id if responsible else None
    elif not partial:
        values["responsible_id"] = contract.officer_id
    relative = data.get("relative")
    anchor = claim_anchor = None
    if "relative" in data:
        if relative is None:
            values.update(
                relative_to_id=None,
                relative_to_claim_id=None,
                relative_amount=None,
                relative_unit=None,
            )
        elif not isinstance(relative, dict):
            errors.add("relative", _("Must be an object with milestone_id, amount and unit."))
        elif relative.get("claim_id") is not None:
            claim_anchor = _claim_anchor(errors, relative, contract)
            amount = _int(
                errors, "relative.amount", relative.get("amount"), maximum=3650, required=True
            )
            unit = _enum(errors, "relative.unit", relative.get("unit"), RelativeUnit)
            if claim_anchor is not None:
                values.update(
                    relative_to_id=None,
                    relative_to_claim_id=claim_anchor.id,
                    relative_amount=amount,
                    relative_unit=unit,
                )
        else:
            anchor = _linked(
                errors,
                "relative.milestone_id",
                Milestone,
                relative.get("milestone_id"),
                user,
                required=True,
            )
            if anchor is not None and anchor.contract_id != contract.id:
                errors.add(
                    "relative.milestone_id", _("The milestone must belong to the same contract.")
                )
                anchor = None
            if anchor is not None and _would_cycle(milestone, anchor):
                errors.add(
                    "relative.milestone_id",
                    _("This would make the dates depend on each other in a circle."),
                )
                anchor = None
            amount = _int(
                errors, "relative.amount", relative.get("amount"), maximum=3650, required=True
            )
            unit = _enum(errors, "relative.unit", relative.get("unit"), RelativeUnit)
            if anchor is not None:
                values.update(
                    relative_to_id=anchor.id,
                    relative_to_claim_id=None,
                    relative_amount=amount,
                    relative_unit=unit,
                )
    anchor = anchor or claim_anchor
    due_given = "due_on" in data
    if due_given:
        values["due_on"] = _date(errors, "due_on", data.get("due_on"))
    is_relative = anchor is not None or (
        partial and milestone.is_relative and "relative" not in data
    )
    if not partial and not is_relative and values.get("due_on") is None and "due_on" not in errors:
        errors.add("due_on", _("Give a due date, or make the date relative to another milestone."))
    if is_relative and due_given and values.get("due_on") is not None and anchor is not None:
        errors.add("due_on", _("A relative milestone takes its date from the other milestone."))
    reason = check_text(errors, "reason", data.get("reason"), max_length=2000)
    if partial and due_given and values.get("due_on") != milestone.due_on and not reason:
        errors.add("reason", _("Say why the due date changes; the old date is kept."))
    if "status" in data:
        values["status"] = _enum(errors, "status", data.get("status"), MilestoneStatus)
    if "met_on" in data:
        values["met_on"] = _date(errors, "met_on", data.get("met_on"))
        if values["met_on"] is not None and values["met_on"] > clock.today():
            errors.add("met_on", _("A milestone cannot be met in the future."))
    if "status_note" in data:
        values["status_note"] = check_text(
            errors, "status_note", data.get("status_note"), max_length=5000
        )
    status = values.get("status", milestone.status if milestone else MilestoneStatus.SCHEDULED)
    met_on = values.get("met_on", milestone.met_on if milestone else None)
    if "met_on" in data and values.get("met_on") is not None and "status" not in data:
        status = values["status"] = MilestoneStatus.MET
    if status == MilestoneStatus.MET and met_on is None and "met_on" not in errors:
        errors.add("met_on", _("Give the date the obligation was met."))
    if status in (MilestoneStatus.SCHEDULED,) and met_on is not None and "status" in data:
        errors.add(
            "met_on",
            _("A scheduled milestone has no date of performance; clear it or mark it met."),
        )
    if status == MilestoneStatus.WAIVED and not (
        values.get("status_note") or (milestone and milestone.status_note)
    ):
        errors.add("status_note", _("Say why the obligation is waived."))
    errors.raise_if_any()

    created = milestone is None
    if created:
        milestone = Milestone(contract=contract)
        db.session.add(milestone)
    old_due = None if created else milestone.due_on
    _set(milestone, values)
    if anchor is not None:
        if anchor is claim_anchor:
            milestone.relative_to_claim = anchor
        else:
            milestone.relative_to = anchor
        computed = _relative_date(milestone)
        milestone.due_on = computed
    if not created and milestone.due_on != old_due:
        db.session.add(
            DueDateChange(
                milestone=milestone,
                old_due_on=old_due,
                new_due_on=milestone.due_on,
                reason=reason or _("the date it depends on changed"),
                changed_by_id=user.id if user else None,
            )
        )
    db.session.flush()
    if "met_on" in values or "status" in values:
        recompute_dependents(user, milestone)
    return milestone


def _claim_anchor(errors: Errors, relative: dict, contract: Contract):
    """A claim of the same contract whose sending starts the count."""
    Claim = Milestone.claim_class()

    if relative.get("milestone_id") is not None:
        errors.add("relative", _("Count from a milestone or from a claim, not both."))
        return None
    ident = relative.get("claim_id")
    claim = db.session.get(Claim, ident) if isinstance(ident, int) else None
    if claim is None or claim.contract_id != contract.id:
        errors.add("relative.claim_id", _("No claim with id %(id)s in this contract.", id=ident))
        return None
    return claim


def _relative_date(milestone: Milestone) -> date | None:
    if milestone.relative_to_claim_id is not None:
        claim = milestone.relative_to_claim
        if claim is None or claim.sent_on is None:
            return None
        return relative_due(
            get_calendar(), claim.sent_on, milestone.relative_amount, milestone.relative_unit
        )
    anchor = milestone.relative_to
    if anchor is None or anchor.met_on is None or anchor.status != MilestoneStatus.MET:
        return None
    return relative_due(
        get_calendar(), anchor.met_on, milestone.relative_amount, milestone.relative_unit
    )


def recompute_dependents(user: User | None, milestone: Milestone) -> list[Milestone]:
    """Milestones whose date counts from this one get their date once it is met (or lose it)."""
    changed = []
    dependents = db.session.scalars(
        sa.select(Milestone).where(Milestone.relative_to_id == milestone.id)
    ).all()
    for dependent in dependents:
        new_due = _relative_date(dependent)
        if new_due != dependent.due_on:
            db.session.add(
                DueDateChange(
                    milestone=dependent,
                    old_due_on=dependent.due_on,
                    new_due_on=new_due,
                    reason=_(
                        "%(period)s after «%(title)s»",
                        period=relative_phrase(dependent.relative_amount, dependent.relative_unit),
                        title=milestone.title,
                    ),
                    changed_by_id=user.id if user else None,
                )
            )
            dependent.due_on = new_due
            changed.append(dependent)
    db.session.flush()
    for dependent in changed:
        changed.extend(recompute_dependents(user, dependent))
    return changed


def recompute_claim_dependents(user: User | None, claim) -> list[Milestone]:
    """Milestones counted from the sending of this claim get their date once it is sent."""
    changed = []
    dependents = db.session.scalars(
        sa.select(Milestone).where(Milestone.relative_to_claim_id == claim.id)
    ).all()
    for dependent in dependents:
        new_due = _relative_date(dependent)
        if new_due == dependent.due_on:
            continue
        db.session.add(
            DueDateChange(
                milestone=dependent,
                old_due_on=dependent.due_on,
                new_due_on=new_due,
                reason=_(
                    "%(n)s %(unit)s after claim No. %(number)s was sent",
                    n=dependent.relative_amount,
                    unit=RelativeUnit(dependent.relative_unit).label,
                    number=claim.outgoing_number or claim.id,
                ),
                changed_by_id=getattr(user, "id", None),
            )
        )
        dependent.due_on = new_due
        changed.append(dependent)
    db.session.flush()
    return changed


def mark_met(user: User, milestone: Milestone, met_on: date, note: str | None = None) -> Milestone:
    data: dict[str, Any] = {"status": MilestoneStatus.MET.value, "met_on": met_on}
    if note:
        data["status_note"] = note
    return save_milestone(user, milestone.contract, data, milestone)


# --- documents ------------------------------------------------------------------------------


def add_document(
    user: User,
    *,
    owner: Project | ProductionSite | Contract,
    document_type: str,
    title: str | None,
    filename: str,
    content: bytes,
    milestone: Milestone | None = None,
) -> Document:
    errors = Errors()
    doc_type = _enum(errors, "document_type", document_type, DocumentType)
    filename = safe_filename(filename)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not filename:
        errors.add("file", _("Choose a file."))
    elif extension not in ALLOWED_DOCUMENT_TYPES:
        errors.add(
            "file",
            _(
                "Files of this type are not accepted. Allowed: %(types)s.",
                types=", ".join(sorted(ALLOWED_DOCUMENT_TYPES)),
            ),
        )
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    if len(content) == 0 and filename:
        errors.add("file", _("The file is empty."))
    elif len(content) > limit:
        errors.add("file", _("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)))
    elif extension and not _content_matches(extension, content):
        errors.add(
            "file", _("The file's content does not match its extension .%(ext)s.", ext=extension)
        )
    title = check_text(errors, "title", title, max_length=500) or filename
    errors.raise_if_any()
    kwargs: dict[str, Any] = {}
    if isinstance(owner, Project):
        kwargs["project_id"] = owner.id
    elif isinstance(owner, ProductionSite):
        kwargs["site_id"] = owner.id
    else:
        kwargs["contract_id"] = owner.id
    document = Document(
        region_code=owner.region_code,
        document_type=doc_type,
        title=title,
        filename=filename,
        content_type=ALLOWED_DOCUMENT_TYPES[extension],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        milestone_id=milestone.id if milestone else None,
        uploaded_by_id=user.id,
        **kwargs,
    )
    db.session.add(document)
    db.session.flush()
    return document


_MAGIC = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "odt": (b"PK\x03\x04",),
    "ods": (b"PK\x03\x04",),
    "zip": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0",),
    "xls": (b"\xd0\xcf\x11\xe0",),
}


def _content_matches(extension: str, content: bytes) -> bool:
    """A cheap check that a ".pdf" is a PDF and so on; plain text must decode as UTF-8."""
    if extension == "txt":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return any(content.startswith(magic) for magic in _MAGIC.get(extension, (b"",)))
