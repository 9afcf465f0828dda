"""A claim's versions: what each edit recorded, and what it changed against the one before."""

from __future__ import annotations

from datetime import date

from ppp_tracker.claims.ladder import id_of
from ppp_tracker.claims.letters import frozen
from ppp_tracker.claims.models import Claim, ClaimVersion
from ppp_tracker.core.audit import current_actor
from ppp_tracker.core.dates import fmt

#: The fields of a claim a user types (beside the date and the milestones).
TEXT_FIELDS = ("demand", "facts_note", "attachments")


def data_of_claim(claim: Claim) -> dict:
    texts = {name: getattr(claim, name) for name in TEXT_FIELDS}
    return data_of(claim.as_of, texts, claim.penalty_total, claim.lines)


def data_of(as_of, texts: dict, total, lines) -> dict:
    """What a version records: the date, the `TEXT_FIELDS` and the penalty they give — `lines`
    (a claim's, or a penalty just computed) each with its milestone_id, days_late, accrued."""
    return frozen.freeze(
        {
            "as_of": as_of,
            "milestone_ids": [line.milestone_id for line in lines],
            "demand": str(texts["demand"]),
            "facts_note": texts["facts_note"],
            "attachments": texts["attachments"],
            "penalty_total": total,
            "lines": [
                {
                    "milestone_id": line.milestone_id,
                    "days_late": line.days_late,
                    "accrued": line.accrued,
                }
                for line in lines
            ],
        }
    )


#: The fields whose changes a version shows, in order.
VERSION_FIELDS = (
    "as_of",
    "milestone_ids",
    "demand",
    "facts_note",
    "attachments",
    "penalty_total",
)


def add_version(claim: Claim, user) -> ClaimVersion:
    previous = claim.versions[-1] if claim.versions else None
    version = ClaimVersion(
        number=(previous.number + 1) if previous else 1,
        actor=current_actor().label,
        user_id=id_of(user),
        data=data_of_claim(claim),
    )
    claim.versions.append(version)
    return version


def version_changes(claim: Claim) -> list[tuple[ClaimVersion, dict[str, tuple[str, str]]]]:
    """Each version with what it changed against the one before: field -> (old, new)."""
    out = []
    previous = None
    for version in claim.versions:
        changes = {}
        if previous is not None:
            old, new = frozen.thaw(previous.data), frozen.thaw(version.data)
            changes = {
                key: (_shown(old.get(key)), _shown(new.get(key)))
                for key in VERSION_FIELDS
                if old.get(key) != new.get(key)
            }
        out.append((version, changes))
        previous = version
    return out


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, date):
        return fmt(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"
