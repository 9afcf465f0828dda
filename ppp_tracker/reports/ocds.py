"""Open Contracting Data Standard 1.1 release packages of contracts (open data).

One release per contract: the parties with their roles (buyer and procuring entity, supplier and
payee, funder), an award the contract implements, the contract with its milestones, documents and
paid installments as transactions, and — for a project's contracts — planning with the project's
stages as milestones. Amounts are exact JSON numbers (never via float); legal dates become
date-times in Asia/Almaty.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import effective_due
from ppp_tracker.db import db
from ppp_tracker.registry.codes import ContractStatus, DocumentType, MilestoneStatus, StageKind
from ppp_tracker.registry.models import (
    Contract,
    Document,
    Milestone,
    Party,
    Project,
    ProjectStage,
)

OCDS_VERSION = "1.1"
#: The organisation identifier scheme of Kazakh BINs in org-id.guide.
BIN_SCHEME = "KZ-BIN"

#: Our milestone statuses in the closed OCDS milestoneStatus codelist. `waived` (the customer
#: released the obligation) is not in it: the obligation was not met, and the release says why.
MILESTONE_STATUS = {
    MilestoneStatus.SCHEDULED: "scheduled",
    MilestoneStatus.MET: "met",
    MilestoneStatus.NOT_MET: "notMet",
    MilestoneStatus.PARTIALLY_MET: "partiallyMet",
    MilestoneStatus.WAIVED: "notMet",
}
#: Our contract statuses in the closed OCDS contractStatus codelist ("terminated" covers both
#: completion and early termination; a suspended contract is still in force).
CONTRACT_STATUS = {
    ContractStatus.ACTIVE: "active",
    ContractStatus.SUSPENDED: "active",
    ContractStatus.COMPLETED: "terminated",
    ContractStatus.TERMINATED: "terminated",
}
#: Project stages as OCDS milestone types (planning milestones).
STAGE_TYPE = {
    StageKind.INITIATION: "preProcurement",
    StageKind.ECONOMIC_CONCLUSION: "approval",
    StageKind.BUDGET_COMMISSION: "financing",
    StageKind.LAND_ALLOCATION: "preProcurement",
    StageKind.FEASIBILITY_STUDY: "assessment",
    StageKind.STATE_EXPERTISE: "assessment",
    StageKind.SECTORAL_EXPERTISE: "assessment",
    StageKind.TENDER: "procurement",
    StageKind.AGREEMENT: "approval",
    StageKind.FINANCIAL_CLOSE: "financing",
    StageKind.CONSTRUCTION: "delivery",
    StageKind.COMMISSIONING: "delivery",
    StageKind.TRANSFER_TO_STATE: "delivery",
    StageKind.OPERATION: "delivery",
    StageKind.END_OF_TERM: "contractClose",
}


# --- exact JSON --------------------------------------------------------------------------------


def dumps(obj: Any) -> str:
    """JSON in which a Decimal is written as the number it is ("77000000.00" → 77000000.00)."""
    if isinstance(obj, dict):
        return (
            "{"
            + ",".join(
                f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in obj.items()
            )
            + "}"
        )
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise ValueError("not a finite amount")
        return format(obj, "f")
    if isinstance(obj, float):
        raise TypeError("floats have no place in this output")
    return json.dumps(obj, ensure_ascii=False)


# --- dates ---------------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Almaty"))


def day_start(day: date) -> str:
    """A legal date as the moment it begins in Almaty: 2014-05-01T00:00:00+06:00."""
    return datetime.combine(day, time(0, 0), tzinfo=_zone()).isoformat()


def day_end(day: date) -> str:
    """The last second of a legal date in Almaty (a deadline runs to the end of its day)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=_zone()).isoformat()


def moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- building blocks -----------------------------------------------------------------------------


def ocid_prefix() -> str:
    return str(current_app.config["OCDS_OCID_PREFIX"])


def ocid(contract: Contract) -> str:
    return f"{ocid_prefix()}-contract-{contract.id}"


def party_id(party: Party) -> str:
    return f"{BIN_SCHEME}-{party.bin}" if party.bin else f"ppp-tracker-party-{party.id}"


def _ref(party: Party) -> dict:
    return {"id": party_id(party), "name": party.name}


def _value(amount: Decimal | None, currency: str = "KZT") -> dict | None:
    if amount is None:
        return None
    return {"amount": Decimal(amount).quantize(Decimal("0.01")), "currency": currency}


def _clean(obj):
    """Drop empty members: OCDS says omit, rather than send null or empty."""
    if isinstance(obj, dict):
        out = {k: _clean(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(obj, list):
        return [v for v in (_clean(v) for v in obj) if v not in (None, "", [], {})]
    return obj


def _party(party: Party, roles: list[str], public: bool) -> dict:
    data: dict[str, Any] = {
        "id": party_id(party),
        "name": party.name,
        "roles": roles,
        "address": {
            "streetAddress": party.address,
            "countryName": "Казахстан",
        },
    }
    if party.bin:
        data["identifier"] = {"scheme": BIN_SCHEME, "id": party.bin, "legalName": party.name}
    if not public:
        # Contact details stay in the authenticated export: a party may be a person (IIN).
        data["contactPoint"] = {"email": party.email, "telephone": party.phone}
    return data


def _document(document: Document) -> dict:
    return {
        "id": str(document.id),
        "documentType": str(document.document_type),
        "title": document.title,
        "format": document.content_type,
        "datePublished": moment(document.uploaded_at),
        "language": "ru",
    }


def _milestone(milestone: Milestone, calendar) -> dict:
    notes = [milestone.description] if milestone.description else []
    if milestone.status == MilestoneStatus.WAIVED:
        notes.append(
            "Обязательство отменено заказчиком"
            + (f": {milestone.status_note}" if milestone.status_note else "")
        )
    elif milestone.status_note:
        notes.append(milestone.status_note)
    if milestone.due_on is not None:
        eff = effective_due(calendar, milestone.due_on, "ru")
        if eff.moved:
            notes.append(f"Срок исполнения с учётом выходных дней: {eff.explanation()}")
    return {
        "id": str(milestone.id),
        "title": milestone.title,
        "type": str(milestone.type),
        "code": milestone.code,
        "description": "\n".join(notes),
        "dueDate": day_end(milestone.due_on) if milestone.due_on else None,
        "dateMet": day_start(milestone.met_on) if milestone.met_on else None,
        "dateModified": moment(milestone.updated_at) if milestone.updated_at else None,
        "status": MILESTONE_STATUS[MilestoneStatus(milestone.status)],
        "value": _value(milestone.value),
    }


def _stage(stage: ProjectStage, today: date) -> dict:
    if stage.actual_on is not None:
        status = "met"
    elif stage.planned_on is not None and stage.planned_on < today:
        status = "notMet"
    else:
        status = "scheduled"
    return {
        "id": f"stage-{stage.kind}",
        "title": str(stage.kind.label),
        "type": STAGE_TYPE[StageKind(stage.kind)],
        "code": str(stage.kind),
        "description": stage.note,
        "dueDate": day_end(stage.planned_on) if stage.planned_on else None,
        "dateMet": day_start(stage.actual_on) if stage.actual_on else None,
        "status": status,
    }


def _last_change(contract: Contract) -> datetime:
    stamps = [contract.updated_at or contract.created_at]
    stamps += [m.updated_at for m in contract.milestones if m.updated_at]
    if contract.project is not None and contract.project.updated_at:
        stamps.append(contract.project.updated_at)
    return max(s for s in stamps if s is not None)


def release(contract: Contract, *, public: bool, documents: Iterable[Document] = ()) -> dict:
    """The OCDS release of one contract (text in Russian, the registry's language)."""
    with force_locale("ru"):
        changed = _last_change(contract)
        the_ocid = ocid(contract)
        paid = [i for i in contract.installments if i.paid_on is not None]
        project = contract.project
        docs = list(documents)
        tags = ["contract"]
        data: dict[str, Any] = {
            "ocid": the_ocid,
            "id": f"{the_ocid}-{changed.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}",
            "date": moment(changed),
            "language": "ru",
            "initiationType": "tender",
            "parties": [_party(p, r, public) for p, r in _roles(contract, paid)],
            "buyer": _ref(contract.customer),
        }
        if project is not None:
            tags.insert(0, "planning")
            project_docs = [_document(d) for d in docs if d.project_id == project.id]
            data["planning"] = _planning(project, project_docs)
        award_id = f"{contract.id}-award"
        data["awards"] = [
            {
                "id": award_id,
                "title": f"Договор № {contract.number}",
                "status": "active",
                "date": day_start(contract.signed_on),
                "value": _value(contract.total_amount, contract.currency),
                "suppliers": [_ref(contract.contractor)],
            }
        ]
        contract_docs = [_document(d) for d in docs if d.contract_id == contract.id]
        contract_data = _contract(contract, award_id, contract_docs)
        if paid:
            tags.append("implementation")
            contract_data["implementation"] = _implementation(contract, paid)
        data["contracts"] = [contract_data]
        data["tag"] = tags
    return _clean(data)


def _roles(contract: Contract, paid: list) -> list[tuple[Party, list[str]]]:
    """The parties of a contract's release, each with its roles."""
    roles: dict[int, tuple[Party, list[str]]] = {}

    def role(party: Party, *names: str) -> None:
        entry = roles.setdefault(party.id, (party, []))
        entry[1].extend(n for n in names if n not in entry[1])

    customer, contractor = contract.customer, contract.contractor
    role(customer, "buyer", "procuringEntity")
    role(contractor, "supplier")
    if paid:
        role(customer, "payer")
        role(contractor, "payee")
    project = contract.project
    if project is not None and project.investor is not None:
        role(project.investor, "funder")
    return list(roles.values())


def _planning(project, documents: list[dict]) -> dict:
    return {
        "rationale": project.description,
        "budget": {
            "description": project.title,
            "amount": _value(project.estimated_cost),
        },
        "milestones": [_stage(s, clock.today()) for s in project.stages],
        "documents": documents,
    }


def _contract(contract: Contract, award_id: str, documents: list[dict]) -> dict[str, Any]:
    calendar = get_calendar()
    return {
        "id": str(contract.id),
        "awardID": award_id,
        "title": f"Договор № {contract.number} от {contract.signed_on:%d.%m.%Y}",
        "description": contract.subject,
        "status": CONTRACT_STATUS[ContractStatus(contract.status)],
        "period": {
            "startDate": day_start(contract.starts_on) if contract.starts_on else None,
            "endDate": day_end(contract.ends_on) if contract.ends_on else None,
        },
        "value": _value(contract.total_amount, contract.currency),
        "dateSigned": day_start(contract.signed_on),
        "milestones": [_milestone(m, calendar) for m in contract.milestones],
        "documents": documents,
    }


def _implementation(contract: Contract, paid: list) -> dict:
    """The installments paid, as the contract's transactions."""
    return {
        "transactions": [
            {
                "id": f"installment-{i.id}",
                "date": day_start(i.paid_on),
                "value": _value(i.paid_amount if i.paid_amount is not None else i.amount),
                "payer": _ref(contract.customer),
                "payee": _ref(contract.contractor),
            }
            for i in paid
        ]
    }


def package(releases: list[dict], uri: str) -> dict:
    config = current_app.config
    publisher: dict[str, Any] = {"name": config["OCDS_PUBLISHER_NAME"]}
    if config.get("OCDS_PUBLISHER_URI"):
        publisher["uri"] = config["OCDS_PUBLISHER_URI"]
    out: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": moment(clock.now()),
        "publisher": publisher,
        "releases": releases,
    }
    if config.get("OCDS_LICENSE"):
        out["license"] = config["OCDS_LICENSE"]
    if config.get("OCDS_PUBLICATION_POLICY"):
        out["publicationPolicy"] = config["OCDS_PUBLICATION_POLICY"]
    return out


def _contracts_query():
    return sa.select(Contract).options(
        selectinload(Contract.customer),
        selectinload(Contract.contractor),
        selectinload(Contract.installments),
        selectinload(Contract.milestones),
        selectinload(Contract.project).selectinload(Project.stages),
        selectinload(Contract.project).selectinload(Project.investor),
    )


def _documents_for(contracts: list[Contract]) -> list[Document]:
    contract_ids = [c.id for c in contracts]
    project_ids = [c.project_id for c in contracts if c.project_id]
    if not contract_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Document)
            .where(
                sa.or_(
                    Document.contract_id.in_(contract_ids), Document.project_id.in_(project_ids)
                ),
                # A claim's delivery proof is the department's legal paper, not open data.
                Document.document_type != DocumentType.CLAIM_DELIVERY_PROOF,
            )
            .order_by(Document.id)
        )
    )


def releases_for(contracts: list[Contract], *, public: bool) -> list[dict]:
    documents = _documents_for(contracts)
    return [
        release(
            c,
            public=public,
            documents=[
                d
                for d in documents
                if d.contract_id == c.id or (c.project_id and d.project_id == c.project_id)
            ],
        )
        for c in contracts
    ]


def contract_package(contract: Contract, uri: str, *, public: bool = False) -> dict:
    return package(releases_for([contract], public=public), uri)


def bulk_package(user: User | None, uri: str, *, region: str | None = None) -> dict:
    """Every contract in the user's scope (None: everything, for the public export)."""
    stmt = _contracts_query().order_by(Contract.id)
    if user is not None:
        stmt = scope(stmt, user, Contract.region_code)
    if region:
        stmt = stmt.where(Contract.region_code == region)
    contracts = list(db.session.scalars(stmt))
    return package(releases_for(contracts, public=user is None), uri)


def load_contract(contract_id: int) -> Contract | None:
    return db.session.scalar(_contracts_query().where(Contract.id == contract_id))
