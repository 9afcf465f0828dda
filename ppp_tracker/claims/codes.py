"""The closed lists of claims and cases (statuses, demands, reply kinds, outcomes) with labels."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ppp_tracker.core.enums import LabelledEnum

#: The letter languages: Russian first, Kazakh second (DESIGN.md section 5).
LETTER_LANGUAGES = ("ru", "kk")

#: After this many unanswered claims the contract is recommended for a lawsuit.
CLAIMS_BEFORE_LAWSUIT = 3


class ClaimStatus(LabelledEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENT = "sent"
    ANSWERED = "answered"
    CURED = "cured"
    ESCALATED = "escalated"
    WITHDRAWN = "withdrawn"

    @classmethod
    def _labels(cls):
        return {
            "draft": _l("Draft"),
            "approved": _l("Approved"),
            "sent": _l("Sent, awaiting reply"),
            "answered": _l("Answered"),
            "cured": _l("Cured"),
            "escalated": _l("Escalated"),
            "withdrawn": _l("Withdrawn"),
        }


#: Before sending, the text may still change.
EDITABLE = frozenset({ClaimStatus.DRAFT, ClaimStatus.APPROVED})
#: Sent letters, whatever happened after.
SENT_STATUSES = frozenset(
    {ClaimStatus.SENT, ClaimStatus.ANSWERED, ClaimStatus.CURED, ClaimStatus.ESCALATED}
)


class DeliveryMethod(LabelledEnum):
    """How a sent claim reached the contractor (the proof differs: a courier's receipt, the
    postal notice of delivery, a read receipt, the e-document system's delivery record)."""

    COURIER = "courier"
    REGISTERED_MAIL = "registered_mail"
    EMAIL = "email"
    EDOCUMENT = "edocument"

    @classmethod
    def _labels(cls):
        return {
            "courier": _l("By courier (delivered by hand)"),
            "registered_mail": _l("Registered mail with notice of delivery"),
            "email": _l("E-mail"),
            "edocument": _l("Electronic document (e-document system)"),
        }


class Demand(LabelledEnum):
    """What the letter demands of the contractor."""

    PERFORM_AND_PAY = "perform_and_pay"
    PAY = "pay"
    PERFORM = "perform"

    @classmethod
    def _labels(cls):
        return {
            "perform_and_pay": _l("Perform the obligations and pay the penalty"),
            "pay": _l("Pay the penalty"),
            "perform": _l("Perform the obligations"),
        }


class ReplyKind(LabelledEnum):
    #: The contractor answered (disputes, promises, asks for time): the ladder stops.
    ANSWER = "answer"
    #: The contractor performed or paid: the claim is settled.
    CURE = "cure"

    @classmethod
    def _labels(cls):
        return {"answer": _l("Answer"), "cure": _l("Cure (performed or paid)")}


class Escalation(LabelledEnum):
    NEXT_CLAIM = "next_claim"
    LAWSUIT = "lawsuit"

    @classmethod
    def _labels(cls):
        return {"next_claim": _l("Draft the next claim"), "lawsuit": _l("Recommend a lawsuit")}


class FlagReason(LabelledEnum):
    UNANSWERED = "unanswered"
    DECISION = "decision"

    @classmethod
    def _labels(cls):
        return {
            "unanswered": _l("The last claim was left unanswered"),
            "decision": _l("Decision of legal staff"),
        }


class CaseOutcome(LabelledEnum):
    PENDING = "pending"
    WON = "won"
    PARTIALLY_WON = "partially_won"
    LOST = "lost"
    SETTLED = "settled"
    WITHDRAWN = "withdrawn"

    @classmethod
    def _labels(cls):
        return {
            "pending": _l("Pending"),
            "won": _l("Won"),
            "partially_won": _l("Partially won"),
            "lost": _l("Lost"),
            "settled": _l("Settled"),
            "withdrawn": _l("Withdrawn"),
        }


class NoticeStatus(LabelledEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    REFUSED = "refused"

    @classmethod
    def _labels(cls):
        return {
            "pending": _l("Waiting to be sent"),
            "sending": _l("Being sent"),
            "sent": _l("Sent"),
            "failed": _l("Failed, will retry"),
            "refused": _l("Refused by the mail server"),
        }
