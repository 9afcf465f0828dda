"""The claims feature's tables: claims with their lines, versions, replies, files and notices
(`claim`); outgoing numbering, letter templates and departments (`letters`); lawsuit
recommendations and cases (`cases`)."""

from ppp_tracker.claims.models.cases import Case, CaseHearing, LawsuitFlag, case_claims
from ppp_tracker.claims.models.claim import (
    Claim,
    ClaimFile,
    ClaimMilestone,
    ClaimNotice,
    ClaimReply,
    ClaimVersion,
)
from ppp_tracker.claims.models.letters import (
    DEFAULT_LEGAL_BASIS,
    Department,
    LetterTemplate,
    OutgoingSequence,
)

__all__ = [
    "DEFAULT_LEGAL_BASIS",
    "Case",
    "CaseHearing",
    "Claim",
    "ClaimFile",
    "ClaimMilestone",
    "ClaimNotice",
    "ClaimReply",
    "ClaimVersion",
    "Department",
    "LawsuitFlag",
    "LetterTemplate",
    "OutgoingSequence",
    "case_claims",
]
