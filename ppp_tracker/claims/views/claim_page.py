"""One claim's page: its letters in both languages, what stops it going on, its versions and
history, the forms of its actions; and its letter as a file."""

from __future__ import annotations

import io
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, render_template, request, send_file
from flask_babel import lazy_gettext as _l

from ppp_tracker import clock
from ppp_tracker.auth.access import acting_user, get_in_scope
from ppp_tracker.claims import composing, letter_facts, sending, staleness, versions
from ppp_tracker.claims.codes import LETTER_LANGUAGES, ClaimStatus, Demand
from ppp_tracker.claims.forms import (
    ActionForm,
    ApproveForm,
    DeliveryForm,
    EscalateForm,
    ReplyForm,
    SendForm,
    WithdrawForm,
)
from ppp_tracker.claims.letters import rendering
from ppp_tracker.claims.models import Claim, LawsuitFlag
from ppp_tracker.claims.views.common import bp
from ppp_tracker.core.calendar import get_calendar, unconfirmed_note
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.money import format_money
from ppp_tracker.registry.models import Milestone
from ppp_tracker.registry.views.common import history_of

#: How the fields of a version are named on the page.
VERSION_LABELS = {
    "as_of": _l("Penalty as of"),
    "milestone_ids": _l("Late obligations"),
    "demand": _l("The letter demands"),
    "facts_note": _l("Further facts"),
    "attachments": _l("Attachments"),
    "penalty_total": _l("Penalty"),
}


def claim_page(claim: Claim, status: int = 200, **forms):
    """The claim's page; `forms` holds an action's form posted with errors, shown again."""
    previews, preview_error = _letter_previews(claim)
    return (
        render_template(
            "claims/claim.html",
            claim=claim,
            previews=previews,
            preview_error=preview_error,
            **_what_holds_it(claim, acting_user()),
            calendar_warning=_calendar_warning(claim),
            history=history_of(
                ("claims", [claim.id]), ("claim_replies", [r.id for r in claim.replies])
            ),
            versions=_display_versions(claim),
            version_labels=VERSION_LABELS,
            followers=db.session.scalars(
                sa.select(Claim).where(Claim.previous_id == claim.id).order_by(Claim.id)
            ).all(),
            flag=db.session.scalar(sa.select(LawsuitFlag).where(LawsuitFlag.claim_id == claim.id)),
            kazakh_gaps=letter_facts.gap_labels(letter_facts.kazakh_gaps(claim)),
            **_action_forms(claim, forms),
        ),
        status,
    )


def _action_forms(claim: Claim, forms: dict) -> dict:
    """One form per action, each posted to its own address; field names differ across them so
    that labels and ids on the page stay unique. A form given (posted with errors) is kept."""
    today = clock.today()
    forms.setdefault("approve_form", ApproveForm(formdata=None))
    forms.setdefault("send_form", SendForm(formdata=None, sent_on=today))
    forms.setdefault("reply_form", ReplyForm(formdata=None, received_on=today))
    forms.setdefault(
        "delivery_form",
        DeliveryForm(
            formdata=None,
            method=str(claim.delivery_method) if claim.delivery_method else None,
            delivered_on=claim.received_on,
        ),
    )
    forms.setdefault("escalate_form", EscalateForm(formdata=None, next_as_of=today))
    forms.setdefault("withdraw_form", WithdrawForm(formdata=None))
    forms.setdefault("restore_form", ActionForm(formdata=None))
    return forms


def _letter_previews(claim: Claim) -> tuple[dict, str | None]:
    """The letter in each language; a draft's text may not render: why, instead of failing."""
    previews = {}
    preview_error = None
    for lang in LETTER_LANGUAGES:
        try:
            previews[lang] = composing.letter_for(claim, lang).frame
        except Invalid as exc:  # the sandbox's refusal, in the reader's language
            preview_error = "; ".join(m for messages in exc.errors.values() for m in messages)
        except Exception as exc:
            preview_error = f"{type(exc).__name__}: {exc}"
    return previews, preview_error


def _what_holds_it(claim: Claim, user) -> dict:
    """Why this reader may not approve now (stale facts, four eyes with who can), said instead
    of offering a button that refuses; once approved, why sending would be refused; and the
    penalty's warnings."""
    stale = staleness.stale_reasons(claim)
    draft = claim.status == ClaimStatus.DRAFT
    return {
        "four_eyes": (
            draft and claim.last_editor_id is not None and claim.last_editor_id == user.id
        ),
        "refusal": sending.approval_refusal(user, claim) if draft else [],
        "stale": stale if claim.status == ClaimStatus.APPROVED else [],
        "draft_stale": stale if draft else [],
        "warnings": staleness.claim_warnings(claim),
    }


def _calendar_warning(claim: Claim):
    """Said when a date of the claim falls in a year whose days off are not confirmed yet."""
    calendar = get_calendar()
    return unconfirmed_note(
        calendar.unconfirmed_years(
            *[line.effective_due_on for line in claim.lines], claim.response_due_on
        )
    )


def _display_versions(claim: Claim) -> list:
    """The versions' changes in the reader's words: labels, money, obligation titles."""
    titles = dict(
        db.session.execute(
            sa.select(Milestone.id, Milestone.title).where(
                Milestone.contract_id == claim.contract_id
            )
        ).all()
    )

    def shown(key: str, value: str) -> str:
        if value == "—":
            return value
        if key == "demand":
            return Demand(value).label
        if key == "penalty_total":
            return format_money(Decimal(value), locale_code())
        if key == "milestone_ids":
            return "; ".join(titles.get(int(i), i) for i in value.split(", "))
        return value

    return [
        (version, {key: (shown(key, old), shown(key, new)) for key, (old, new) in changes.items()})
        for version, changes in versions.version_changes(claim)
    ]


@bp.get("/claims/<id:claim_id>")
def claim(claim_id: int):
    return claim_page(get_in_scope(Claim, claim_id))


@bp.get("/claims/<id:claim_id>/letter.<any(docx, pdf):fmt>")
def letter(claim_id: int, fmt: str):
    claim = get_in_scope(Claim, claim_id)
    lang = request.args.get("lang", "ru")
    if lang not in LETTER_LANGUAGES:
        abort(404)
    content = composing.letter_file(claim, lang, fmt)
    name = f"{claim.outgoing_number or f'draft-{claim.id}'}.{lang}.{fmt}"
    return send_file(
        io.BytesIO(content), mimetype=rendering.MIME[fmt], as_attachment=True, download_name=name
    )
