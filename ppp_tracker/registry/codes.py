"""The closed lists of the registry (kinds, stages, OCDS codes) with their labels for people."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ppp_tracker.core.dates import (  # noqa: F401 - the milestone's lists, with the date rules
    OPEN_MILESTONE_STATUSES,
    MilestoneStatus,
    RelativeUnit,
)
from ppp_tracker.core.enums import LabelledEnum


class ProjectKind(LabelledEnum):
    CONCESSION = "concession"
    PPP = "ppp"
    LEASE = "lease"
    TRUST_MANAGEMENT = "trust_management"

    @classmethod
    def _labels(cls):
        return {
            "concession": _l("Concession"),
            "ppp": _l("Public-private partnership"),
            "lease": _l("Lease"),
            "trust_management": _l("Trust management"),
        }


class ProjectStatus(LabelledEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls):
        return {
            "planned": _l("Planned"),
            "active": _l("Active"),
            "suspended": _l("Suspended"),
            "completed": _l("Completed"),
            "cancelled": _l("Cancelled"),
        }


class StageKind(LabelledEnum):
    """The life of a concession project, in order (DESIGN.md section 3)."""

    INITIATION = "initiation"
    ECONOMIC_CONCLUSION = "economic_conclusion"
    BUDGET_COMMISSION = "budget_commission"
    LAND_ALLOCATION = "land_allocation"
    FEASIBILITY_STUDY = "feasibility_study"
    STATE_EXPERTISE = "state_expertise"
    SECTORAL_EXPERTISE = "sectoral_expertise"
    TENDER = "tender"
    AGREEMENT = "agreement"
    FINANCIAL_CLOSE = "financial_close"
    CONSTRUCTION = "construction"
    COMMISSIONING = "commissioning"
    TRANSFER_TO_STATE = "transfer_to_state"
    OPERATION = "operation"
    END_OF_TERM = "end_of_term"

    @property
    def order(self) -> int:
        return list(StageKind).index(self)

    @classmethod
    def _labels(cls):
        return {
            "initiation": _l("Initiation"),
            "economic_conclusion": _l("Economic conclusion"),
            "budget_commission": _l("Budget commission"),
            "land_allocation": _l("Land allocation"),
            "feasibility_study": _l("Feasibility study"),
            "state_expertise": _l("State expertise"),
            "sectoral_expertise": _l("Sectoral expertise"),
            "tender": _l("Tender"),
            "agreement": _l("Agreement"),
            "financial_close": _l("Financial close"),
            "construction": _l("Construction"),
            "commissioning": _l("Commissioning"),
            "transfer_to_state": _l("Transfer to the state"),
            "operation": _l("Operation"),
            "end_of_term": _l("End of term"),
        }


class Arrangement(LabelledEnum):
    LEASE = "lease"
    TRUST_MANAGEMENT = "trust_management"

    @classmethod
    def _labels(cls):
        return {"lease": _l("Lease"), "trust_management": _l("Trust management")}


class SiteStatus(LabelledEnum):
    OPERATING = "operating"
    IDLE = "idle"
    CLOSED = "closed"

    @classmethod
    def _labels(cls):
        return {"operating": _l("Operating"), "idle": _l("Idle"), "closed": _l("Closed")}


class InstitutionKind(LabelledEnum):
    COLONY = "colony"
    PRISON = "prison"
    PRETRIAL = "pretrial"
    ENTERPRISE = "enterprise"
    DEPARTMENT = "department"

    @classmethod
    def _labels(cls):
        return {
            "colony": _l("Correctional colony"),
            "prison": _l("Prison"),
            "pretrial": _l("Pre-trial detention centre"),
            "enterprise": _l("State enterprise (RSE)"),
            "department": _l("Penal-system department"),
        }


class PartyKind(LabelledEnum):
    GOVERNMENT = "government"
    CONCESSIONAIRE = "concessionaire"
    CONTRACTOR = "contractor"
    TENANT = "tenant"
    TRUSTEE = "trustee"
    COURT = "court"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            "government": _l("Government body"),
            "concessionaire": _l("Concessionaire"),
            "contractor": _l("Contractor"),
            "tenant": _l("Tenant"),
            "trustee": _l("Trustee"),
            "court": _l("Court"),
            "other": _l("Other"),
        }


class ContractStatus(LabelledEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"

    @classmethod
    def _labels(cls):
        return {
            "active": _l("Active"),
            "suspended": _l("Suspended"),
            "completed": _l("Completed"),
            "terminated": _l("Terminated"),
        }


class PenaltyBase(LabelledEnum):
    TOTAL = "total"
    OUTSTANDING = "outstanding"

    @classmethod
    def _labels(cls):
        return {
            "total": _l("Contract total"),
            "outstanding": _l("Value of the unperformed obligation"),
        }


class MilestoneType(LabelledEnum):
    """OCDS milestoneType codelist (1.1)."""

    PRE_PROCUREMENT = "preProcurement"
    APPROVAL = "approval"
    ENGAGEMENT = "engagement"
    ASSESSMENT = "assessment"
    DELIVERY = "delivery"
    REPORTING = "reporting"
    FINANCING = "financing"
    PAYMENT = "payment"
    PROCUREMENT = "procurement"
    CONTRACT_CLOSE = "contractClose"

    @classmethod
    def _labels(cls):
        return {
            "preProcurement": _l("Pre-procurement"),
            "approval": _l("Approval"),
            "engagement": _l("Engagement"),
            "assessment": _l("Assessment"),
            "delivery": _l("Delivery"),
            "reporting": _l("Reporting"),
            "financing": _l("Financing"),
            "payment": _l("Payment"),
            "procurement": _l("Procurement"),
            "contractClose": _l("Contract close"),
        }


class Obligor(LabelledEnum):
    CONTRACTOR = "contractor"
    CUSTOMER = "customer"

    @classmethod
    def _labels(cls):
        return {"contractor": _l("Contractor"), "customer": _l("Customer")}


class DocumentType(LabelledEnum):
    """The OCDS documentType values this registry uses (open codelist)."""

    FEASIBILITY_STUDY = "feasibilityStudy"
    CONTRACT_SIGNED = "contractSigned"
    CONTRACT_ANNEXE = "contractAnnexe"
    CONTRACT_SCHEDULE = "contractSchedule"
    ENVIRONMENTAL_IMPACT = "environmentalImpact"
    PROJECT_PLAN = "projectPlan"
    COMPLETION_CERTIFICATE = "completionCertificate"
    PHYSICAL_PROGRESS_REPORT = "physicalProgressReport"
    FINANCIAL_PROGRESS_REPORT = "financialProgressReport"
    FINAL_AUDIT = "finalAudit"
    LAND_AND_SETTLEMENT = "landAndSettlementImpact"
    CONTRACT_NOTICE = "contractNotice"
    #: A scan proving that a claim letter reached the contractor (kept off the OCDS export).
    CLAIM_DELIVERY_PROOF = "claimDeliveryProof"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            "feasibilityStudy": _l("Feasibility study"),
            "contractSigned": _l("Signed contract"),
            "contractAnnexe": _l("Contract annex"),
            "contractSchedule": _l("Contract schedule"),
            "environmentalImpact": _l("Environmental impact"),
            "projectPlan": _l("Project plan"),
            "completionCertificate": _l("Completion certificate"),
            "physicalProgressReport": _l("Progress report"),
            "financialProgressReport": _l("Financial report"),
            "finalAudit": _l("Audit"),
            "landAndSettlementImpact": _l("Land documents"),
            "contractNotice": _l("Notice or letter"),
            "claimDeliveryProof": _l("Proof of a claim's delivery"),
            "other": _l("Other"),
        }


#: File types a document may have, by extension, with the content type we serve them as.
ALLOWED_DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "txt": "text/plain",
    "zip": "application/zip",
}
