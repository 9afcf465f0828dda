"""Contracts with their penalty terms, response period and installments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import in_scope
from ppp_tracker.auth.models import User
from ppp_tracker.core import limits
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.validation import (
    Errors,
    check_text,
    normalise_dashes,
)
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    ContractStatus,
    PenaltyBase,
)
from ppp_tracker.registry.models import (
    Contract,
    Installment,
    Party,
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.checks import (
    check_date,
    check_decimal,
    check_enum,
    check_int,
    check_linked,
    check_money,
    check_texts,
    check_user_email,
    set_values,
)


def save_contract(user: User, data: dict, contract: Contract | None = None) -> Contract:
    """Create or change a contract with its terms and, when given, all its installments."""
    errors = Errors()
    values = _contract_fields(errors, user, data, contract)
    _contract_terms(errors, data, values)
    region = values.get("region_code") or (contract.region_code if contract else None)
    if "officer" in data:
        officer = check_user_email(errors, "officer", data.get("officer"), region)
        values["officer_id"] = officer.id if officer else None
    installments = None
    if "installments" in data and data["installments"] is not None:
        installments = _check_installments(errors, data["installments"])
        total = values.get("total_amount") or (contract.total_amount if contract else None)
        if total is not None and installments and sum(i["amount"] for i in installments) > total:
            errors.add(
                "installments", _("The installments add up to more than the contract total.")
            )
    if not errors:
        _check_number_unique(errors, values, contract)
    errors.raise_if_any()
    if contract is None:
        contract = Contract()
        db.session.add(contract)
    set_values(contract, values)
    if installments is not None:
        contract.installments.clear()
        for item in installments:
            contract.installments.append(Installment(**item))
    db.session.flush()
    return contract


def _contract_fields(
    errors: Errors, user: User, data: dict, contract: Contract | None
) -> dict[str, Any]:
    """Number, signing date, parties, what it is for, subject, total, term and status."""
    partial = contract is not None
    values: dict[str, Any] = {}
    if not partial or "number" in data:
        number = check_text(
            errors, "number", data.get("number"), required=True, max_length=limits.CODE
        )
        values["number"] = normalise_dashes(number) if number else None
    if not partial or "signed_on" in data:
        signed = check_date(errors, "signed_on", data.get("signed_on"), required=True)
        if signed is not None and signed > clock.today():
            errors.add("signed_on", _("A contract cannot be signed in the future."))
        values["signed_on"] = signed
    for field in ("customer_id", "contractor_id"):
        if not partial or field in data:
            party = check_linked(errors, field, Party, data.get(field), user, required=True)
            values[field] = party.id if party else None
    if values.get("customer_id") and values.get("customer_id") == values.get("contractor_id"):
        errors.add("contractor_id", _("The contractor must differ from the customer."))
    if not partial or "project_id" in data or "site_id" in data:
        _contract_owner(errors, user, data, values, contract)
    if not partial or "subject" in data:
        values["subject"] = check_text(
            errors, "subject", data.get("subject"), required=True, max_length=limits.NOTE
        )
    if not partial or "total_amount" in data:
        values["total_amount"] = check_money(
            errors, "total_amount", data.get("total_amount"), required=True, positive=True
        )
    for field in ("starts_on", "ends_on"):
        if field in data:
            values[field] = check_date(errors, field, data.get(field))
    starts = values.get("starts_on", contract.starts_on if contract else None)
    ends = values.get("ends_on", contract.ends_on if contract else None)
    if starts and ends and ends < starts:
        errors.add("ends_on", _("The end must not be before the start."))
    if "status" in data:
        values["status"] = check_enum(errors, "status", data.get("status"), ContractStatus)
    return values


def _contract_terms(errors: Errors, data: dict, values: dict[str, Any]) -> None:
    """The penalty, the period to answer a claim, the grace period and the texts letters cite."""
    if "penalty" in data and data["penalty"] is not None:
        _penalty_terms(errors, data["penalty"], values)
    if "response_period" in data and data["response_period"] is not None:
        _response_period(errors, data["response_period"], values)
    if "grace_working_days" in data:
        values["grace_working_days"] = check_int(
            errors,
            "grace_working_days",
            data.get("grace_working_days"),
            maximum=limits.GRACE_DAYS,
            required=True,
        )
    texts = {
        "subject_kk": limits.NOTE,
        "penalty_clause": limits.NAME,
        "penalty_clause_kk": limits.NAME,
    }
    check_texts(errors, data, values, texts)
    if "penalty_clause_no" in data:
        clause = check_text(
            errors, "penalty_clause_no", data.get("penalty_clause_no"), max_length=limits.CLAUSE_NO
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
            check_text(errors, "assumptions", data.get("assumptions"), max_length=limits.NOTE)
            or None
        )


def _response_period(errors: Errors, period, values: dict[str, Any]) -> None:
    if not isinstance(period, dict):
        errors.add("response_period", _("Must be an object with days and working."))
        return
    if "days" in period:
        values["response_days"] = check_int(
            errors,
            "response_period.days",
            period.get("days"),
            minimum=1,
            maximum=limits.RESPONSE_DAYS,
            required=True,
        )
    for key, column in (("working", "response_working"), ("from_receipt", "response_from_receipt")):
        if key not in period:
            continue
        if not isinstance(period.get(key), bool):
            errors.add(f"response_period.{key}", _("Must be true or false."))
        else:
            values[column] = period[key]


def _check_number_unique(errors: Errors, values: dict[str, Any], contract: Contract | None) -> None:
    """A customer has one contract of a number and date."""
    if not (values.get("number") and values.get("customer_id")):
        return
    clash = db.session.scalar(
        sa.select(Contract.id).where(
            Contract.number == values["number"],
            Contract.customer_id == values["customer_id"],
            Contract.signed_on == values.get("signed_on", contract.signed_on if contract else None),
        )
    )
    if clash is not None and (contract is None or clash != contract.id):
        errors.add(
            "number",
            _("This customer already has contract No. %(n)s of that date.", n=values["number"]),
        )


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
        project = check_linked(errors, "project_id", Project, project_id, user)
        if project is not None:
            values.update(project_id=project.id, site_id=None, region_code=project.region_code)
    else:
        site = check_linked(errors, "site_id", ProductionSite, site_id, user)
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
        rate = check_decimal(
            errors,
            "penalty.rate_percent_per_day",
            penalty.get("rate_percent_per_day"),
            maximum=Decimal(100),
        )
        if rate is None and "penalty.rate_percent_per_day" not in errors:
            errors.add("penalty.rate_percent_per_day", _("This field is required."))
        values["penalty_rate_percent"] = rate
    if "base" in penalty:
        values["penalty_base"] = check_enum(
            errors, "penalty.base", penalty.get("base"), PenaltyBase
        )
    if "cap_percent" in penalty:
        cap = check_decimal(
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
        due = check_date(errors, f"{field}.due_on", item.get("due_on"), required=True)
        amount = check_money(
            errors, f"{field}.amount", item.get("amount"), required=True, positive=True
        )
        description = check_text(
            errors, f"{field}.description", item.get("description"), max_length=limits.LINE
        )
        paid_on = check_date(errors, f"{field}.paid_on", item.get("paid_on"))
        paid_amount = check_money(errors, f"{field}.paid_amount", item.get("paid_amount"))
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
    set_values(installment, values)
    db.session.flush()
    return installment
