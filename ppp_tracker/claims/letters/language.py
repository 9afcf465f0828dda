"""One language of a letter's facts: the Kazakh letter prints the records' Kazakh versions and
says where it had to quote Russian (kazakh_gaps)."""

from __future__ import annotations

import copy

#: What a letter quotes from the records and has a Kazakh version of (`<field>_kk` beside
#: `<field>` in the facts): the Kazakh letter prints the Kazakh one; where it is missing the
#: Russian one stands in and the letter is flagged (`kazakh_gaps`).
KAZAKH_FIELDS = (
    ("sender", "name"),
    ("sender", "address"),
    ("sender", "bank"),
    ("sender", "head_position"),
    ("addressee", "name"),
    ("addressee", "address"),
    ("addressee", "head_position"),
    ("contract", "subject"),
    ("contract", "penalty_clause"),
    ("signatory", "position"),
    ("case", "court"),
)
#: Free texts of the claim, written once for both letters: a Kazakh letter quoting them is
#: flagged, since nobody can tell from here whether they were written in Kazakh.
SHARED_TEXTS = ("facts_note", "attachments")


def in_language(facts: dict, lang: str) -> tuple[dict, list[str]]:
    """The facts as the letter in `lang` speaks them, and the places where a Kazakh letter had
    to quote Russian ("addressee.name", "milestones.2.title", "court", "facts_note")."""
    context = copy.deepcopy(facts)
    gaps: list[str] = []
    if lang != "kk":
        return context, gaps

    def pick(obj: dict | None, field: str, where: str) -> None:
        if not obj:
            return
        kazakh = obj.get(f"{field}_kk")
        if kazakh:
            obj[field] = kazakh
        elif obj.get(field):
            gaps.append(where)

    for group, field in KAZAKH_FIELDS:
        pick(context.get(group), field, f"{group}.{field}")
    for index, m in enumerate(context.get("milestones") or [], 1):
        pick(m, "title", f"milestones.{index}.title")
        for generated in ("off_reasons", "effective_reason"):
            m[generated] = m.get(f"{generated}_kk")
    if context.get("court_kk"):
        context["court"] = context["court_kk"]
    elif context.get("court"):
        gaps.append("court")
    for name in SHARED_TEXTS:
        if context.get(name):
            gaps.append(name)
    return context, gaps


def kazakh_gaps(facts: dict) -> list[str]:
    """Where the Kazakh letter of these facts quotes Russian; [] when it is Kazakh throughout."""
    return in_language(facts, "kk")[1]
