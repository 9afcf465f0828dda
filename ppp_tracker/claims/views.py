"""Legal staff's pages: the queue of claims, a claim with its letter, edit, approve, send,
reply, escalate; lawsuits; the penalty and claim history on the contract page; the admins'
letter templates and outgoing numbers. Thin: validate, call a service, commit, respond."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import (
    Permission,
    acting_user,
    get_in_scope,
    require,
    scope,
)
from ppp_tracker.claims import cases as lawsuits
from ppp_tracker.claims import (
    composing,
    drafting,
    escalation,
    letter_facts,
    numbering,
    sending,
    staleness,
    versions,
)
from ppp_tracker.claims import departments as department_services
from ppp_tracker.claims.api import MIME
from ppp_tracker.claims.codes import LETTER_LANGUAGES, CaseOutcome, ClaimStatus, Demand
from ppp_tracker.claims.forms import (
    ActionForm,
    ApproveForm,
    CaseForm,
    ClaimForm,
    DeliveryForm,
    DepartmentForm,
    EscalateForm,
    HearingForm,
    HeldForm,
    NumberingForm,
    ReplyForm,
    SendForm,
    TemplateForm,
    WithdrawForm,
)
from ppp_tracker.claims.letters import rendering, samples, sandbox, texts
from ppp_tracker.claims.models import DEFAULT_LEGAL_BASIS, Case, Claim, Department, LawsuitFlag
from ppp_tracker.claims.tasks import queue_render
from ppp_tracker.core.calendar import get_calendar, unconfirmed_note
from ppp_tracker.core.dates import days_late_phrase, effective_due, fmt
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors
from ppp_tracker.core.listing import Listing
from ppp_tracker.core.regions import Region
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db, round_tiyn
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.money import format_money
from ppp_tracker.registry import services as registry_services
from ppp_tracker.registry.codes import DocumentType, Obligor, PenaltyBase
from ppp_tracker.registry.models import Contract, Milestone, Party
from ppp_tracker.registry.views import _history

bp = Blueprint("claims", __name__)

#: The queue's tabs: name -> statuses shown.
QUEUE_TABS = {
    "todo": (ClaimStatus.DRAFT, ClaimStatus.APPROVED),
    "waiting": (ClaimStatus.SENT,),
    "done": (ClaimStatus.ANSWERED, ClaimStatus.CURED, ClaimStatus.ESCALATED),
    "withdrawn": (ClaimStatus.WITHDRAWN,),
    "all": tuple(ClaimStatus),
}


#: How the fields of a version are named on the page.
VERSION_LABELS = {
    "as_of": _l("Penalty as of"),
    "milestone_ids": _l("Late obligations"),
    "demand": _l("The letter demands"),
    "facts_note": _l("Further facts"),
    "attachments": _l("Attachments"),
    "penalty_total": _l("Penalty"),
}


@bp.before_request
@login_required
def _logged_in():
    """Every claims page needs a logged-in user who may read."""
    require(Permission.READ)


def _flash_errors(exc: Invalid) -> None:
    for messages in exc.errors.values():
        for message in messages:
            flash(message, "danger")


def _blank(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# --- the queue -----------------------------------------------------------------------------------


@bp.get("/claims")
def queue():
    user = acting_user()
    tab = request.args.get("tab", "todo")
    if tab not in QUEUE_TABS:
        tab = "todo"
    contractor = sa.orm.aliased(Party)
    stmt = (
        sa.select(Claim)
        .join(Contract, Contract.id == Claim.contract_id)
        .join(contractor, Contract.contractor_id == contractor.id)
        .where(Claim.status.in_(list(QUEUE_TABS[tab])))
        .options(selectinload(Claim.contract).selectinload(Contract.contractor))
    )
    q = request.args.get("q", "")
    listing = Listing(
        scope(stmt, user, Claim.region_code),
        search=[Contract.search_text, contractor.search_text, Claim.outgoing_number],
        sorts={
            "created": Claim.created_at,
            "number": Claim.outgoing_number,
            "sent_on": Claim.sent_on,
            "due": Claim.response_due_on,
            "penalty": Claim.penalty_total,
            "contract": Contract.number,
        },
        default_sort="due" if tab == "waiting" else "-created",
        args={**request.args, "q": numbering.normalise_number(q) if _looks_numbered(q) else q},
    )
    return render_template(
        "claims/queue.html",
        listing=listing,
        tab=tab,
        tabs=QUEUE_TABS,
        flags=lawsuits.open_flags(user),
        today=clock.today(),
    )


def _looks_numbered(text: str) -> bool:
    """A search for an outgoing number typed with Word's dashes ("14–28–9-1987")."""
    cleaned = numbering.normalise_number(text or "")
    return bool(cleaned) and cleaned.replace("-", "").isdigit() and "-" in cleaned


# --- one claim -----------------------------------------------------------------------------------


def _claim_page(claim: Claim, status: int = 200, **forms):
    user = acting_user()
    today = clock.today()
    # One form per action, each posted to its own address; field names differ across them so
    # that labels and ids on the page stay unique.
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
    previews = {}
    preview_error = None
    for lang in LETTER_LANGUAGES:
        try:
            previews[lang] = composing.letter_for(claim, lang).frame
        except Exception as exc:  # a draft's text may not render; say so instead of failing
            preview_error = f"{type(exc).__name__}: {exc}"
    calendar = get_calendar()
    calendar_warning = unconfirmed_note(
        calendar.unconfirmed_years(
            *[line.effective_due_on for line in claim.lines], claim.response_due_on
        )
    )
    four_eyes = (
        claim.status == ClaimStatus.DRAFT
        and claim.last_editor_id is not None
        and claim.last_editor_id == user.id
    )
    # Why this reader may not approve now (stale facts, four eyes with who can), said instead
    # of offering a button that refuses; and, once approved, why sending would be refused.
    stale = staleness.stale_reasons(claim)
    refusal = sending.approval_refusal(user, claim) if claim.status == ClaimStatus.DRAFT else []
    return (
        render_template(
            "claims/claim.html",
            claim=claim,
            previews=previews,
            preview_error=preview_error,
            four_eyes=four_eyes,
            refusal=refusal,
            stale=stale if claim.status == ClaimStatus.APPROVED else [],
            draft_stale=stale if claim.status == ClaimStatus.DRAFT else [],
            warnings=staleness.claim_warnings(claim),
            calendar_warning=calendar_warning,
            history=_history(
                ("claims", [claim.id]), ("claim_replies", [r.id for r in claim.replies])
            ),
            versions=_display_versions(claim),
            version_labels=VERSION_LABELS,
            followers=db.session.scalars(
                sa.select(Claim).where(Claim.previous_id == claim.id).order_by(Claim.id)
            ).all(),
            flag=db.session.scalar(sa.select(LawsuitFlag).where(LawsuitFlag.claim_id == claim.id)),
            kazakh_gaps=letter_facts.gap_labels(letter_facts.kazakh_gaps(claim)),
            **forms,
        ),
        status,
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
    return _claim_page(get_in_scope(Claim, claim_id))


def _late_choices(contract: Contract, as_of: date) -> list[tuple[int, str]]:
    """Every contractor obligation with a date, labelled with its lateness on `as_of`."""
    result = {line.milestone_id: line for line in contract_penalty(contract, as_of).lines}
    choices = []
    for m in contract.milestones:
        if m.obligor != Obligor.CONTRACTOR or m.due_on is None:
            continue
        line = result.get(m.id)
        if line is None:
            label = _("%(title)s — not late on %(d)s", title=m.title, d=fmt(as_of))
        else:
            label = _(
                "%(title)s — due %(due)s, %(late)s, %(amount)s",
                title=m.title,
                due=fmt(line.effective_due_on),
                late=days_late_phrase(line.days_late),
                amount=format_money(line.accrued, locale_code()),
            )
        choices.append((m.id, label))
    return choices


def _claim_data(form: ClaimForm) -> dict:
    return {
        "milestone_ids": list(form.milestone_ids.data or []),
        "as_of": form.as_of.data,
        "demand": form.demand.data,
        "facts_note": _blank(form.facts_note.data),
        "attachments": _blank(form.attachments.data),
    }


@bp.route("/contracts/<id:contract_id>/claims/new", methods=["GET", "POST"])
def new_claim(contract_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    contract = get_in_scope(Contract, contract_id)
    form = ClaimForm()
    if request.method == "GET":
        form.as_of.data = _parse_day(request.args.get("as_of")) or clock.today()
    as_of = form.as_of.data or clock.today()
    form.milestone_ids.choices = _late_choices(contract, as_of)
    if request.method == "GET":
        late = {line.milestone_id for line in contract_penalty(contract, as_of).lines}
        form.milestone_ids.data = [mid for mid, _label in form.milestone_ids.choices if mid in late]
        form.demand.data = "perform_and_pay"
    if form.validate_on_submit():
        try:
            claim = drafting.create_claim(user, contract, _claim_data(form))
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("The draft claim is saved. Another person approves it."), "success")
            return redirect(url_for("claims.claim", claim_id=claim.id))
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template(
        "claims/claim_form.html",
        form=form,
        contract=contract,
        claim=None,
        warnings=contract_penalty(contract, as_of).warnings,
        stale=[],
    ), status


@bp.route("/claims/<id:claim_id>/edit", methods=["GET", "POST"])
def edit_claim(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    if not claim.is_editable:
        flash(
            _("A sent letter never changes; record a reply or escalate instead.")
            if claim.outgoing_number
            else _("The claim is withdrawn; restore it to change it."),
            "danger",
        )
        return redirect(url_for("claims.claim", claim_id=claim.id))
    form = ClaimForm(obj=claim)
    if request.method == "GET":
        form.milestone_ids.data = claim.milestone_ids
        form.demand.data = str(claim.demand)
    form.milestone_ids.choices = _late_choices(claim.contract, form.as_of.data or claim.as_of)
    if form.validate_on_submit():
        data = _claim_data(form)
        data["recompute"] = bool(request.form.get("recompute"))
        try:
            drafting.update_claim(user, claim, data)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("Saved as a new version."), "success")
            return redirect(url_for("claims.claim", claim_id=claim.id))
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template(
        "claims/claim_form.html",
        form=form,
        contract=claim.contract,
        claim=claim,
        warnings=staleness.claim_warnings(claim),
        stale=staleness.stale_reasons(claim),
    ), status


def _act(
    claim: Claim,
    action,
    success: str | None,
    form=None,
    key: str | None = None,
    renamed: dict[str, str] | None = None,
):
    """Run a state change; refusals (409) come back as a flash, field errors next to fields."""
    try:
        result = action()
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        db.session.refresh(claim)
        if renamed:
            exc = type(exc)({renamed.get(k, k): v for k, v in exc.errors.items()})
        if form is not None and any(k != "_request" for k in exc.errors):
            apply_errors(form, exc)
            return None, _claim_page(claim, 422, **{key: form})
        _flash_errors(exc)
        return None, redirect(url_for("claims.claim", claim_id=claim.id))
    if success:
        flash(success, "success")
    return result, None


@bp.post("/claims/<id:claim_id>/approve")
def approve(claim_id: int):
    user = require(Permission.APPROVE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    _result, page = _act(
        claim,
        lambda: sending.approve_claim(user, claim, bool(form.acknowledge_warnings.data)),
        _("The claim is approved."),
        form,
        "approve_form",
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))


#: Drafts approved in one go at most.
BULK_AT_MOST = 100


def _selected_drafts(user, source) -> list[Claim]:
    """The drafts chosen in `source` (ids) within the user's scope, oldest first."""
    ids = sorted(
        {int(v) for v in source.getlist("ids") if v.strip().isdigit() and len(v.strip()) < 10}
    )[:BULK_AT_MOST]
    stmt = scope(sa.select(Claim), user, Claim.region_code).where(
        Claim.id.in_(ids), Claim.status == ClaimStatus.DRAFT
    )
    return list(db.session.scalars(stmt.order_by(Claim.created_at, Claim.id)))


@bp.route("/claims/bulk-approve", methods=["GET", "POST"])
def bulk_approve():
    """Several drafts approved at once: the queue's selection shown for confirmation (GET),
    then each approved as on its own page (POST) — one audit entry per claim, the four-eyes
    rule per claim (a refused one is named, the others are approved)."""
    user = require(Permission.APPROVE_CLAIMS)
    source = request.form if request.method == "POST" else request.args
    drafts = _selected_drafts(user, source)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        approved, refused = 0, []
        for claim in drafts:
            try:
                sending.approve_claim(user, claim)
                db.session.commit()
                approved += 1
            except Invalid as exc:
                db.session.rollback()
                reasons = "; ".join(m for messages in exc.errors.values() for m in messages)
                refused.append(f"№ {claim.contract.number}: {reasons}")
        if approved:
            flash(
                ngettext("%(num)d claim approved.", "%(num)d claims approved.", approved),
                "success",
            )
        for line in refused:
            flash(line, "danger")
        return redirect(url_for("claims.queue"))
    return render_template("claims/bulk_approve.html", form=form, drafts=drafts), (
        200 if drafts or not source.getlist("ids") else 422
    )


@bp.post("/claims/<id:claim_id>/send")
def send(claim_id: int):
    user = require(Permission.APPROVE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = SendForm()
    if not form.validate_on_submit():
        return _claim_page(claim, 422, send_form=form)
    sent, page = _act(
        claim,
        lambda: sending.send_claim(
            user,
            claim,
            form.sent_on.data,
            _blank(form.outgoing_number.data),
            bool(form.acknowledge_kazakh_gaps.data),
        ),
        None,
        form,
        "send_form",
    )
    if page is not None:
        return page
    queue_render(sent.id)
    if sent.response_due_on is None:
        message = _(
            "Sent: outgoing No. %(n)s of %(d)s; the reply period runs from the contractor's"
            " receipt: record it when known.",
            n=sent.outgoing_number,
            d=fmt(sent.sent_on),
        )
    else:
        message = _(
            "Sent: outgoing No. %(n)s of %(d)s; the reply is due by %(due)s.",
            n=sent.outgoing_number,
            d=fmt(sent.sent_on),
            due=fmt(sent.response_due_on),
        )
    flash(message, "success")
    return redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/delivery")
def delivery(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = DeliveryForm()
    if not form.validate_on_submit():
        return _claim_page(claim, 422, delivery_form=form)
    data = {"method": form.method.data, "received_on": form.delivered_on.data}

    def record():
        proof = None
        upload = form.proof_file.data
        if upload is not None and getattr(upload, "filename", ""):
            # The scan is a typed document of the contract: the registry's one upload path,
            # with its limits (size, types, content) and its audit.
            try:
                proof = registry_services.add_document(
                    user,
                    owner=claim.contract,
                    document_type=DocumentType.CLAIM_DELIVERY_PROOF,
                    title=_("Proof of delivery of claim No. %(n)s", n=claim.outgoing_number),
                    filename=upload.filename,
                    content=upload.read(),
                )
            except Invalid as exc:
                messages = [m for ms in exc.errors.values() for m in ms]
                raise Invalid({"proof_file": messages}) from None
        return sending.record_delivery(user, claim, data, proof)

    _result, page = _act(
        claim, record, _("The delivery is recorded."), form, "delivery_form", DELIVERY_FIELDS
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id) + "#delivery")


#: The service's field names → the delivery form's (whose names stay unique on the claim page).
DELIVERY_FIELDS = {"received_on": "delivered_on", "document_id": "proof_file"}


@bp.post("/claims/<id:claim_id>/reply")
def reply(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _claim_page(claim, 422, reply_form=form)
    data = {
        "received_on": form.received_on.data,
        "kind": form.kind.data,
        "incoming_number": _blank(form.incoming_number.data),
        "summary": _blank(form.summary.data),
        "paid_amount": form.paid_amount.data,
    }
    _result, page = _act(
        claim,
        lambda: escalation.record_reply(user, claim, data),
        _("The reply is recorded."),
        form,
        "reply_form",
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/escalate")
def escalate(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = EscalateForm()
    if not form.validate_on_submit():
        return _claim_page(claim, 422, escalate_form=form)
    outcome, page = _act(
        claim,
        lambda: escalation.escalate_claim(
            user, claim, form.decision.data, form.next_as_of.data, _blank(form.note.data)
        ),
        _("Escalated."),
        form,
        "escalate_form",
    )
    if page is not None:
        return page
    if isinstance(outcome, Claim):
        return redirect(url_for("claims.claim", claim_id=outcome.id))
    return redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/withdraw")
def withdraw(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _claim_page(claim, 422, withdraw_form=form)
    _result, page = _act(
        claim,
        lambda: escalation.withdraw_claim(user, claim, form.reason.data),
        _("The claim is withdrawn."),
        form,
        "withdraw_form",
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))


@bp.post("/claims/<id:claim_id>/restore")
def restore(claim_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    claim = get_in_scope(Claim, claim_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    _result, page = _act(
        claim, lambda: escalation.restore_claim(user, claim), _("The claim is a draft again.")
    )
    return page or redirect(url_for("claims.claim", claim_id=claim.id))


@bp.get("/claims/<id:claim_id>/letter.<any(docx, pdf):fmt>")
def letter(claim_id: int, fmt: str):
    claim = get_in_scope(Claim, claim_id)
    lang = request.args.get("lang", "ru")
    if lang not in LETTER_LANGUAGES:
        abort(404)
    content = composing.letter_file(claim, lang, fmt)
    name = f"{claim.outgoing_number or f'draft-{claim.id}'}.{lang}.{fmt}"
    return send_file(
        io.BytesIO(content), mimetype=MIME[fmt], as_attachment=True, download_name=name
    )


# --- the contract page: the penalty in words and the claim history -------------------------------


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def penalty_panel(contract: Contract) -> Markup:
    """The penalty of the contract on a day, explained the way a lawyer checks it."""
    as_of = _parse_day(request.args.get("penalty_as_of")) or clock.today()
    result = contract_penalty(contract, as_of)
    calendar = get_calendar()
    explained = [
        {
            "line": line,
            "why": effective_due(calendar, line.due_on, locale_code()).explanation(),
            "late_from": line.effective_due_on + timedelta(days=1),
            # Before the cap, rounded as the rule rounds: once, half up.
            "uncapped": round_tiyn(line.daily_exact * line.days_counted),
        }
        for line in result.lines
    ]
    # The template escapes every value (autoescape), so its output is safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "claims/_contract_penalty.html",
            contract=contract,
            result=result,
            base_label=PenaltyBase(result.terms.base).label,
            explained=explained,
            as_of=as_of,
        )
    )


def claims_panel(contract: Contract) -> Markup:
    claims = db.session.scalars(
        sa.select(Claim)
        .where(Claim.contract_id == contract.id)
        .options(selectinload(Claim.lines), selectinload(Claim.replies))
        .order_by(Claim.sequence, Claim.id)
    ).all()
    cases = db.session.scalars(
        sa.select(Case).where(Case.contract_id == contract.id).order_by(Case.filed_on)
    ).all()
    flags = db.session.scalars(
        sa.select(LawsuitFlag)
        .where(LawsuitFlag.contract_id == contract.id, LawsuitFlag.case_id.is_(None))
        .order_by(LawsuitFlag.id)
    ).all()
    # The template escapes every value (autoescape), so its output is safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "claims/_contract_claims.html",
            contract=contract,
            claims=claims,
            cases=cases,
            flags=flags,
        )
    )


# --- lawsuits ------------------------------------------------------------------------------------


@bp.get("/cases")
def cases():
    user = acting_user()
    contractor = sa.orm.aliased(Party)
    stmt = (
        sa.select(Case)
        .join(Contract, Contract.id == Case.contract_id)
        .join(contractor, Contract.contractor_id == contractor.id)
    )
    listing = Listing(
        scope(stmt, user, Case.region_code),
        search=[Contract.search_text, contractor.search_text, Case.search_text],
        sorts={"filed_on": Case.filed_on, "outcome": Case.outcome},
        default_sort="-filed_on",
        filters={"outcome": Case.outcome},
    )
    return render_template(
        "claims/cases.html", listing=listing, outcomes=CaseOutcome, flags=lawsuits.open_flags(user)
    )


def _case_page(case: Case, status: int = 200, **forms):
    forms.setdefault("hearing_form", HearingForm(formdata=None))
    forms.setdefault("held_form", HeldForm(formdata=None, held_on=clock.today()))
    return render_template(
        "claims/case.html",
        case=case,
        history=_history(("cases", [case.id])),
        **forms,
    ), status


@bp.get("/cases/<id:case_id>")
def case(case_id: int):
    return _case_page(get_in_scope(Case, case_id))


def _sent_claim_choices(contract: Contract) -> list[tuple[int, str]]:
    claims = db.session.scalars(
        sa.select(Claim)
        .where(Claim.contract_id == contract.id, Claim.outgoing_number.is_not(None))
        .order_by(Claim.sent_on)
    ).all()
    return [(c.id, _("No. %(n)s of %(d)s", n=c.outgoing_number, d=fmt(c.sent_on))) for c in claims]


@bp.route("/contracts/<id:contract_id>/cases/new", methods=["GET", "POST"])
@bp.route("/cases/<id:case_id>/edit", methods=["GET", "POST"])
def edit_case(contract_id: int | None = None, case_id: int | None = None):
    user = require(Permission.MANAGE_CLAIMS)
    case = get_in_scope(Case, case_id) if case_id else None
    contract = case.contract if case else get_in_scope(Contract, contract_id)
    form = CaseForm(obj=case)
    form.claim_ids.choices = _sent_claim_choices(contract)
    if request.method == "GET":
        if case is None:
            form.court_name.data = contract.region.court_name
            form.court_name_kk.data = contract.region.court_name_kk
            form.filed_on.data = clock.today()
            form.claim_ids.data = [cid for cid, _label in form.claim_ids.choices]
            form.outcome.data = "pending"
        else:
            form.claim_ids.data = [c.id for c in case.claims]
            form.outcome.data = str(case.outcome)
    if form.validate_on_submit():
        data = {
            "court_name": form.court_name.data,
            "court_name_kk": _blank(form.court_name_kk.data),
            "case_number": _blank(form.case_number.data),
            "filed_on": form.filed_on.data,
            "claims_penalty": form.claims_penalty.data,
            "claims_register": form.claims_register.data,
            "amount_claimed": form.amount_claimed.data,
            "claim_ids": list(form.claim_ids.data or []),
            "outcome": form.outcome.data,
            "decided_on": form.decided_on.data,
            "amount_awarded": form.amount_awarded.data,
            "amount_paid": form.amount_paid.data,
            "notes": _blank(form.notes.data),
        }
        try:
            saved = lawsuits.save_case(user, contract, data, case)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("claims.case", case_id=saved.id))
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("claims/case_form.html", form=form, contract=contract, case=case), status


@bp.post("/cases/<id:case_id>/hearings")
def add_hearing(case_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    case = get_in_scope(Case, case_id)
    form = HearingForm()
    if form.validate_on_submit():
        try:
            lawsuits.add_hearing(
                user, case, {"hearing_on": form.hearing_on.data, "note": _blank(form.note.data)}
            )
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("The hearing is added to the contract's milestones."), "success")
            return redirect(url_for("claims.case", case_id=case.id))
    return _case_page(case, 422, hearing_form=form)


@bp.post("/cases/<id:case_id>/hearings/<id:milestone_id>/held")
def hearing_held(case_id: int, milestone_id: int):
    user = require(Permission.MANAGE_CLAIMS)
    case = get_in_scope(Case, case_id)
    milestone = get_in_scope(Milestone, milestone_id)
    form = HeldForm()
    if form.validate_on_submit():
        try:
            lawsuits.hearing_held(user, case, milestone, form.held_on.data)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            _flash_errors(exc)
        else:
            flash(_("The hearing is marked as held."), "success")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "danger")
    return redirect(url_for("claims.case", case_id=case.id))


# --- administration: letter templates and numbering ----------------------------------------------


@bp.get("/letter-templates")
def letter_templates():
    require(Permission.ADMIN)
    rows = {lang: composing.current_template(lang) for lang in LETTER_LANGUAGES}
    return render_template("claims/letter_templates.html", rows=rows)


@bp.route("/letter-templates/<any(ru, kk):lang>", methods=["GET", "POST"])
def letter_template(lang: str):
    user = require(Permission.ADMIN)
    current = composing.current_template(lang)
    form = TemplateForm()
    if request.method == "GET":
        form.body.data = current.body if current else texts.default_text(lang)
    if request.method == "POST" and request.form.get("reset"):
        form.body.data = texts.default_text(lang)
    elif form.validate_on_submit():
        try:
            saved = composing.save_template(user, lang, form.body.data, _blank(form.note.data))
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("Version %(v)s of the letter text is in use.", v=saved.version), "success")
            return redirect(url_for("claims.letter_template", lang=lang))
    preview = None
    if not form.errors and form.body.data:
        problems = texts.check_text(form.body.data, lang)
        if problems:
            form.body.errors = [str(p) for p in problems]
        else:
            preview = rendering.compose(form.body.data, samples.sample_context(), lang).frame
    status = 422 if form.errors else 200
    return render_template(
        "claims/letter_template.html",
        form=form,
        lang=lang,
        current=current,
        preview=preview,
        names=texts.CONTEXT_NAMES,
        sample=samples.sample_context(1),
        filters=sandbox.FILTER_HELP,
        blocks=sandbox.BLOCKS,
        required=texts.REQUIRED_BLOCKS,
    ), status


@bp.route("/numbering", methods=["GET", "POST"])
def numbering_page():
    require(Permission.ADMIN)
    form = NumberingForm()
    prefix = numbering.department_prefix()
    if form.validate_on_submit():
        try:
            number = numbering.set_last_used(form.last_number.data, prefix)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("The next letter gets No. %(n)s-%(s)s.", n=prefix, s=number.seq + 1), "success")
            return redirect(url_for("claims.numbering_page"))
    last = numbering.last_used(prefix)
    recent = db.session.scalars(
        sa.select(Claim)
        .where(Claim.outgoing_prefix == prefix)
        .order_by(Claim.outgoing_year.desc(), Claim.outgoing_seq.desc())
        .limit(10)
    ).all()
    status = 422 if form.errors else 200
    return render_template(
        "claims/numbering.html",
        form=form,
        prefix=prefix,
        last=last,
        recent=recent,
        yearly=numbering.restarts_yearly(),
        year=clock.today().year,
    ), status


# --- administration: the departments that send letters -------------------------------------------


@bp.get("/departments")
def departments():
    require(Permission.ADMIN)
    regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    rows = {d.region_code: d for d in db.session.scalars(sa.select(Department))}
    return render_template("claims/departments.html", regions=regions, rows=rows)


@bp.route("/departments/<string(maxlength=8):region_code>", methods=["GET", "POST"])
def department(region_code: str):
    user = require(Permission.ADMIN)
    region = db.get_or_404(Region, region_code)
    current = department_services.department_for(region.code)
    form = DepartmentForm(obj=current)
    if request.method == "GET" and current is None:
        form.legal_basis.data = DEFAULT_LEGAL_BASIS
    if form.validate_on_submit():
        data = {name: form[name].data for name in form.data if name != "csrf_token"}
        try:
            department_services.save_department(user, region.code, data)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("The department's requisites are saved."), "success")
            return redirect(url_for("claims.department", region_code=region.code))
    status = 422 if form.errors else 200
    history = _history(("departments", [current.id])) if current is not None else []
    return render_template(
        "claims/department.html", form=form, region=region, current=current, history=history
    ), status
