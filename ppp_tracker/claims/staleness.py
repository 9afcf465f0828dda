"""The facts a claim stands on (the contract, its parties, its obligations, the penalty as the
rule gives it today), kept when its penalty is computed, and what changed since; the penalty's
warnings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from ppp_tracker.claims.codes import EDITABLE
from ppp_tracker.claims.letters import frozen
from ppp_tracker.claims.models import Claim
from ppp_tracker.core.dates import fmt
from ppp_tracker.core.penalty import PenaltyWarning
from ppp_tracker.db import db
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.money import format_money
from ppp_tracker.registry.models import Milestone

#: What an approval covers besides the claim's own text: the contract, its parties, the claim's
#: obligations and the penalty as the rule gives it today on the claim's date.
_CONTRACT_FACTS = (
    "number",
    "signed_on",
    "subject",
    "total_amount",
    "penalty_rate_percent",
    "penalty_base",
    "penalty_cap_percent",
    "penalty_clause",
    "response_days",
    "response_working",
)


_PARTY_FACTS = ("name", "bin", "address", "head_position", "head_name")


_MILESTONE_FACTS = ("title", "due_on", "met_on", "status", "value", "obligor")


def _plain(value):
    if isinstance(value, Decimal | date):
        return str(value)
    if hasattr(value, "value"):  # an enum
        return str(value.value)
    return value


def claim_facts_now(claim: Claim, result=None) -> dict:
    """Today's facts of the claim (JSON-ready): compared with `facts_snapshot` to tell what changed
    since its penalty was computed. `result` saves recomputing the penalty just computed."""
    contract = claim.contract
    ids = [line.milestone_id for line in claim.lines]
    if result is None:
        milestones = [db.session.get(Milestone, i) for i in ids]
        result = contract_penalty(contract, claim.as_of, [m for m in milestones if m])
    obligations = {}
    for milestone_id in ids:
        m = db.session.get(Milestone, milestone_id)
        obligations[str(milestone_id)] = (
            None if m is None else {k: _plain(getattr(m, k)) for k in _MILESTONE_FACTS}
        )
    return {
        "contract": {k: _plain(getattr(contract, k, None)) for k in _CONTRACT_FACTS},
        "customer": {k: _plain(getattr(contract.customer, k, None)) for k in _PARTY_FACTS},
        "contractor": {k: _plain(getattr(contract.contractor, k, None)) for k in _PARTY_FACTS},
        "obligations": obligations,
        "penalty": {
            "total": str(result.total),
            "rows": [[r.milestone_id, r.days_counted, str(r.accrued)] for r in result.rows],
        },
    }


def stale_reasons(claim: Claim) -> list[str]:
    """What changed since the claim's penalty was computed (empty: nothing, or a sent letter)."""
    if claim.status not in EDITABLE or claim.facts_snapshot is None:
        return []
    then, now = claim.facts_snapshot, claim_facts_now(claim)
    if then == now:
        return []
    reasons = []
    contract = claim.contract
    if then.get("contract") != now["contract"]:
        changed = [k for k in _CONTRACT_FACTS if then["contract"].get(k) != now["contract"][k]]
        reasons.append(
            _(
                "Contract No. %(n)s changed: %(fields)s.",
                n=contract.number,
                fields=", ".join(_fact_label(k) for k in changed),
            )
        )
    for role, party in (("customer", contract.customer), ("contractor", contract.contractor)):
        if then.get(role) != now[role]:
            changed = [k for k in _PARTY_FACTS if (then.get(role) or {}).get(k) != now[role][k]]
            reasons.append(
                _(
                    "The party «%(name)s» changed: %(fields)s.",
                    name=party.name,
                    fields=", ".join(_fact_label(k) for k in changed),
                )
            )
    titles = {str(line.milestone_id): line.title for line in claim.lines}
    for key, old in (then.get("obligations") or {}).items():
        new = now["obligations"].get(key)
        if old == new:
            continue
        if new is None:
            reasons.append(_("The obligation «%(t)s» was deleted.", t=titles.get(key, key)))
            continue
        changed = [k for k in _MILESTONE_FACTS if (old or {}).get(k) != new[k]]
        reasons.append(
            _(
                "The obligation «%(t)s» changed: %(fields)s.",
                t=new["title"],
                fields=", ".join(_fact_label(k) for k in changed),
            )
        )
    if then.get("penalty") != now["penalty"]:
        reasons.append(
            _(
                "The penalty on %(d)s is now %(new)s, not %(old)s.",
                d=fmt(claim.as_of),
                new=format_money(Decimal(now["penalty"]["total"])),
                old=format_money(Decimal((then.get("penalty") or {}).get("total", "0"))),
            )
        )
    return reasons


def _fact_label(key: str) -> str:
    return {
        "number": _("number"),
        "signed_on": _("date signed"),
        "subject": _("subject"),
        "total_amount": _("amount"),
        "penalty_rate_percent": _("penalty rate"),
        "penalty_base": _("penalty base"),
        "penalty_cap_percent": _("penalty cap"),
        "penalty_clause": _("penalty clause"),
        "response_days": _("reply period"),
        "response_working": _("reply period"),
        "name": _("name"),
        "bin": _("BIN"),
        "address": _("address"),
        "head_position": _("head's position"),
        "head_name": _("head's name"),
        "title": _("title"),
        "due_on": _("due date"),
        "met_on": _("performed on"),
        "status": _("status"),
        "value": _("value"),
        "obligor": _("obligor"),
    }.get(key, key)


def claim_warnings(claim: Claim) -> list[PenaltyWarning]:
    """The warnings that came with the claim's penalty (cap reached, above the contract sum,
    time-barred days), in the reader's language through `.text`."""
    out = []
    for w in frozen.thaw(claim.penalty_warnings or []):
        out.append(
            PenaltyWarning(
                code=w["code"],
                amount=Decimal(w.get("amount") or 0),
                days=w.get("days") or 0,
                since=w.get("since"),
                years=w.get("years") or 0,
            )
        )
    return out
