"""Forms of the claims pages; they parse input, the claims services judge it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from ppp_tracker.claims.codes import CaseOutcome, DeliveryMethod, Demand, Escalation, ReplyKind
from ppp_tracker.core import limits
from ppp_tracker.core.forms import MoneyField


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (milestones of a claim, claims of a case)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        # The services say which ids are acceptable (and why not), next to the field.
        pass


def _int_list(values):
    return int(values)


class ClaimForm(FlaskForm):
    milestone_ids = CheckboxesField(_l("Late obligations"), coerce=_int_list, choices=[])
    as_of = DateField(
        _l("Penalty as of"),
        validators=[DataRequired()],
        description=_l("The penalty is computed on this day and stays so until recomputed."),
    )
    demand = SelectField(_l("The letter demands"), choices=Demand.choices)
    facts_note = TextAreaField(
        _l("Further facts"),
        validators=[Optional(), Length(max=limits.TEXT)],
        description=_l("One paragraph per line; shown as typed in both languages."),
    )
    attachments = TextAreaField(
        _l("Attachments"),
        validators=[Optional(), Length(max=limits.TEXT)],
        description=_l("One attachment per line, e.g. «Копия договора № 241 на 12 л.»."),
    )


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (approve, restore)."""


class ApproveForm(FlaskForm):
    """Approve a draft; a penalty with warnings needs them acknowledged."""

    acknowledge_warnings = BooleanField(
        _l("I have read the warnings about the penalty and approve it as it is")
    )


class SendForm(FlaskForm):
    sent_on = DateField(_l("Sent on"), validators=[DataRequired()])
    outgoing_number = StringField(
        _l("Number given by hand"),
        validators=[Optional(), Length(max=limits.CODE)],
        description=_l("Administrators only, for a letter numbered in the paper register."),
    )
    acknowledge_kazakh_gaps = BooleanField(
        _l("Send the Kazakh letter although parts of it are in Russian")
    )


class ReplyForm(FlaskForm):
    received_on = DateField(_l("Received on"), validators=[DataRequired()])
    kind = SelectField(_l("Reply"), choices=ReplyKind.choices)
    incoming_number = StringField(
        _l("Their number"), validators=[Optional(), Length(max=limits.CODE)]
    )
    summary = TextAreaField(_l("What they say"), validators=[Optional(), Length(max=limits.TEXT)])
    paid_amount = MoneyField(_l("Penalty paid, ₸"), validators=[Optional()])


class DeliveryForm(FlaskForm):
    method = SelectField(_l("Delivered"), choices=DeliveryMethod.choices)
    delivered_on = DateField(
        _l("Received by the contractor on"),
        validators=[Optional()],
        description=_l("Empty while the receipt is not known yet."),
    )
    proof_file = FileField(
        _l("Proof (a scan)"),
        description=_l(
            "The signed courier receipt, the postal notice of delivery, the read receipt."
        ),
    )


class EscalateForm(FlaskForm):
    decision = SelectField(_l("Next step"), choices=Escalation.choices)
    next_as_of = DateField(_l("Penalty of the next claim as of"), validators=[Optional()])
    note = TextAreaField(_l("Why"), validators=[Optional(), Length(max=limits.TEXT)])


class WithdrawForm(FlaskForm):
    reason = StringField(
        _l("Why is it withdrawn"), validators=[DataRequired(), Length(max=limits.TEXT)]
    )


class CaseForm(FlaskForm):
    court_name = StringField(_l("Court"), validators=[DataRequired(), Length(max=limits.NAME)])
    court_name_kk = StringField(
        _l("Court in Kazakh"), validators=[Optional(), Length(max=limits.NAME)]
    )
    case_number = StringField(_l("Case number"), validators=[Optional(), Length(max=limits.CODE)])
    filed_on = DateField(_l("Filed on"), validators=[DataRequired()])
    claims_penalty = BooleanField(_l("Recovery of the penalty"), default=True)
    claims_register = BooleanField(_l("Unscrupulous-participant register"))
    amount_claimed = MoneyField(_l("Amount claimed, ₸"), validators=[Optional()])
    claim_ids = CheckboxesField(_l("Claims it rests on"), coerce=_int_list, choices=[])
    outcome = SelectField(_l("Outcome"), choices=CaseOutcome.choices)
    decided_on = DateField(_l("Decided on"), validators=[Optional()])
    amount_awarded = MoneyField(_l("Awarded, ₸"), validators=[Optional()])
    amount_paid = MoneyField(_l("Paid, ₸"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=limits.TEXT)])


class HearingForm(FlaskForm):
    hearing_on = DateField(_l("Hearing on"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=limits.LINE)])


class HeldForm(FlaskForm):
    held_on = DateField(_l("Held on"), validators=[DataRequired()])


class TemplateForm(FlaskForm):
    body = TextAreaField(_l("Letter text"), validators=[DataRequired()])
    note = StringField(_l("What changed"), validators=[Optional(), Length(max=limits.LINE)])


class NumberingForm(FlaskForm):
    last_number = StringField(
        _l("Last number used"),
        validators=[DataRequired(), Length(max=limits.CODE)],
        description=_l("As in the paper register, e.g. 14–28–9-2462; the counter only goes up."),
    )


class DepartmentForm(FlaskForm):
    """A department's requisites; the claims departments service judges them (BIN, IIK, …)."""

    name_ru = StringField(
        _l("Name (Russian)"), validators=[DataRequired(), Length(max=limits.NAME)]
    )
    name_kk = StringField(_l("Name (Kazakh)"), validators=[Optional(), Length(max=limits.NAME)])
    bin = StringField(_l("BIN"), validators=[Optional(), Length(max=limits.CODE)])
    address_ru = StringField(
        _l("Address (Russian)"), validators=[Optional(), Length(max=limits.LINE)]
    )
    address_kk = StringField(
        _l("Address (Kazakh)"), validators=[Optional(), Length(max=limits.LINE)]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=limits.CODE)])
    bank_ru = StringField(_l("Bank (Russian)"), validators=[Optional(), Length(max=limits.NAME)])
    bank_kk = StringField(_l("Bank (Kazakh)"), validators=[Optional(), Length(max=limits.NAME)])
    iik = StringField(
        _l("Account (IIK)"),
        validators=[Optional(), Length(max=limits.CODE)],
        description=_l("A KZ IBAN of 20 characters."),
    )
    bik = StringField(
        _l("Bank code (BIK)"),
        validators=[Optional(), Length(max=limits.CODE)],
        description=_l("8 or 11 characters, like KKMFKZ2A."),
    )
    kbk = StringField(
        _l("Budget classification code (KBK)"),
        validators=[Optional(), Length(max=limits.CODE)],
        description=_l("For a state body: the 6-digit code the penalty is paid to."),
    )
    knp = StringField(
        _l("Payment purpose code (KNP)"),
        validators=[Optional(), Length(max=limits.CODE)],
        description=_l("3 digits."),
    )
    head_position_ru = StringField(
        _l("Head's position (Russian)"), validators=[Optional(), Length(max=limits.NAME)]
    )
    head_position_kk = StringField(
        _l("Head's position (Kazakh)"), validators=[Optional(), Length(max=limits.NAME)]
    )
    head_name = StringField(_l("Head's name"), validators=[Optional(), Length(max=limits.NAME)])
    executor_name = StringField(
        _l("Executor's name"), validators=[Optional(), Length(max=limits.NAME)]
    )
    executor_phone = StringField(
        _l("Executor's phone"), validators=[Optional(), Length(max=limits.CODE)]
    )
    legal_basis = StringField(
        _l("Civil Code articles cited"),
        validators=[Optional(), Length(max=limits.NAME)],
        description=_l("Separated by commas, a range with a dash: 272, 277, 293, 349–351."),
    )
