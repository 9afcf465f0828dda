"""Forms of the registry pages; they parse input, the services judge it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ppp_tracker.core import limits
from ppp_tracker.core.forms import MoneyField, NumberRange, PercentField
from ppp_tracker.registry.codes import (
    Arrangement,
    ContractStatus,
    DocumentType,
    InstitutionKind,
    MilestoneStatus,
    MilestoneType,
    Obligor,
    PartyKind,
    PenaltyBase,
    ProjectKind,
    ProjectStatus,
    RelativeUnit,
    SiteStatus,
)
from ppp_tracker.registry.models import Contract, Milestone


def blank_to_none(value):
    """Typed text as the services take it: stripped, and None when nothing is left."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def optional_int_coerce(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class InstitutionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.NAME)])
    kind = SelectField(_l("Kind"), choices=InstitutionKind.choices)
    region = SelectField(_l("Region"), choices=[])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=limits.NAME)])
    capacity = IntegerField(
        _l("Capacity (places)"), validators=[Optional(), NumberRange(min=0, max=limits.HEADCOUNT)]
    )

    def service_data(self) -> dict:
        return {
            "name": self.name.data,
            "kind": self.kind.data,
            "region": self.region.data,
            "address": blank_to_none(self.address.data),
            "capacity": self.capacity.data,
        }


class PartyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.NAME)])
    name_kk = StringField(
        _l("Name in Kazakh"),
        validators=[Optional(), Length(max=limits.NAME)],
        description=_l("Printed in Kazakh letters; without it the Kazakh letter is flagged."),
    )
    kind = SelectField(_l("Kind"), choices=PartyKind.choices)
    bin = StringField(
        _l("BIN / IIN"),
        # No length here: the service checks the exact 12 digits (spaces allowed).
        validators=[Optional()],
        description=_l("12 digits; the last one is a control digit."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=limits.NAME)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=limits.CODE)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=limits.LINE)])
    address_kk = StringField(
        _l("Address in Kazakh"), validators=[Optional(), Length(max=limits.LINE)]
    )
    head_position = StringField(
        _l("Head's position"),
        validators=[Optional(), Length(max=limits.NAME)],
        description=_l("As addressed in letters, e.g. «Председателю Правления»."),
    )
    head_position_kk = StringField(
        _l("Head's position in Kazakh"),
        validators=[Optional(), Length(max=limits.NAME)],
        description=_l("As addressed in Kazakh letters, e.g. «Басқарма Төрағасына»."),
    )
    head_name = StringField(_l("Head's name"), validators=[Optional(), Length(max=limits.NAME)])
    region = SelectField(_l("Region"), choices=[])

    def service_data(self) -> dict:
        """Every field as typed, a blank one as None."""
        names = (
            "name",
            "name_kk",
            "kind",
            "bin",
            "email",
            "phone",
            "address",
            "address_kk",
            "head_position",
            "head_position_kk",
            "head_name",
            "region",
        )
        return {name: blank_to_none(self[name].data) for name in names}


class ProjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=limits.LINE)])
    kind = SelectField(_l("Kind"), choices=ProjectKind.choices)
    status = SelectField(_l("Status"), choices=ProjectStatus.choices)
    region = SelectField(_l("Region"), choices=[])
    institution = SelectField(_l("Institution"), choices=[], coerce=optional_int_coerce)
    investor_id = SelectField(_l("Investor"), choices=[], coerce=optional_int_coerce)
    capacity = IntegerField(
        _l("Capacity (places)"), validators=[Optional(), NumberRange(min=1, max=limits.HEADCOUNT)]
    )
    land_area_ha = PercentField(_l("Land area, ha"), validators=[Optional()])
    estimated_cost = MoneyField(_l("Estimated cost, ₸"), validators=[Optional()])
    term_years = IntegerField(
        _l("Term, years"), validators=[Optional(), NumberRange(min=1, max=limits.TERM_YEARS)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=limits.TEXT)])

    def service_data(self) -> dict:
        return {
            "title": self.title.data,
            "kind": self.kind.data,
            "status": self.status.data,
            "region": self.region.data,
            "institution": self.institution.data,
            "investor_id": self.investor_id.data,
            "capacity": self.capacity.data,
            "land_area_ha": self.land_area_ha.data,
            "estimated_cost": self.estimated_cost.data,
            "term_years": self.term_years.data,
            "description": blank_to_none(self.description.data),
        }


class StageForm(FlaskForm):
    kind = HiddenField()
    planned_on = DateField(lazy_pgettext("date", "Planned"), validators=[Optional()])
    actual_on = DateField(lazy_pgettext("date", "Actual"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=limits.NOTE)])

    field_map = {
        "stages.0.planned_on": "planned_on",
        "stages.0.actual_on": "actual_on",
        "stages.0.note": "note",
    }

    def service_data(self) -> dict:
        """The project's data with this one stage (its kind in the hidden field)."""
        stage = {
            "kind": self.kind.data,
            "planned_on": self.planned_on.data,
            "actual_on": self.actual_on.data,
            "note": blank_to_none(self.note.data),
        }
        return {"stages": [stage]}


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.NAME)])
    arrangement = SelectField(_l("Arrangement"), choices=Arrangement.choices)
    status = SelectField(_l("Status"), choices=SiteStatus.choices)
    institution = SelectField(_l("Institution"), choices=[], coerce=optional_int_coerce)
    operator_id = SelectField(_l("Operator"), choices=[], coerce=optional_int_coerce)
    activity = StringField(_l("Activity"), validators=[Optional(), Length(max=limits.NAME)])
    area_m2 = PercentField(_l("Area, m²"), validators=[Optional()])
    employed = IntegerField(
        _l("Convicts employed"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=limits.HEADCOUNT)],
    )

    def service_data(self) -> dict:
        return {
            "name": self.name.data,
            "arrangement": self.arrangement.data,
            "status": self.status.data,
            "institution": self.institution.data,
            "operator_id": self.operator_id.data,
            "activity": blank_to_none(self.activity.data),
            "area_m2": self.area_m2.data,
            "employed": self.employed.data or 0,
        }


class ContractForm(FlaskForm):
    field_map = {
        "penalty.rate_percent_per_day": "penalty_rate",
        "penalty.base": "penalty_base",
        "penalty.cap_percent": "penalty_cap",
        "response_period.days": "response_days",
        "response_period.working": "response_working",
        "response_period.from_receipt": "response_from_receipt",
    }

    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=limits.CODE)])
    signed_on = DateField(_l("Signed on"), validators=[DataRequired()])
    customer_id = SelectField(_l("Customer"), choices=[], coerce=optional_int_coerce)
    contractor_id = SelectField(_l("Contractor"), choices=[], coerce=optional_int_coerce)
    project_id = SelectField(_l("Project"), choices=[], coerce=optional_int_coerce)
    site_id = SelectField(_l("Production site"), choices=[], coerce=optional_int_coerce)
    subject = TextAreaField(_l("Subject"), validators=[DataRequired(), Length(max=limits.NOTE)])
    subject_kk = TextAreaField(
        _l("Subject in Kazakh"), validators=[Optional(), Length(max=limits.NOTE)]
    )
    total_amount = MoneyField(_l("Total amount, ₸"), validators=[DataRequired()])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=ContractStatus.choices)
    officer = SelectField(_l("Responsible officer"), choices=[])
    penalty_rate = PercentField(
        _l("Penalty, % per day"), default="0.1", validators=[DataRequired()]
    )
    penalty_base = SelectField(_l("Penalty base"), choices=PenaltyBase.choices)
    penalty_cap = PercentField(
        _l("Penalty cap, %"),
        validators=[Optional()],
        description=_l("Empty: no cap."),
    )
    penalty_clause_no = StringField(
        _l("Penalty clause No."),
        validators=[Optional(), Length(max=limits.CLAUSE_NO)],
        description=_l("The clause's number in the contract, e.g. 7.2."),
    )
    penalty_clause = StringField(
        _l("Penalty clause"),
        validators=[Optional(), Length(max=limits.NAME)],
        description=_l("What the clause is, e.g. «раздел „Ответственность сторон“»."),
    )
    penalty_clause_kk = StringField(
        _l("Penalty clause in Kazakh"), validators=[Optional(), Length(max=limits.NAME)]
    )
    response_days = IntegerField(
        _l("Response period, days"),
        default=10,
        validators=[DataRequired(), NumberRange(1, limits.RESPONSE_DAYS)],
    )
    response_working = BooleanField(_l("Working days"), default=True)
    response_from_receipt = BooleanField(
        _l("Counted from the contractor's receipt of a claim"),
        default=False,
        description=_l("Unticked: from the day the claim is sent."),
    )
    grace_working_days = IntegerField(
        _l("Grace period, working days"),
        default=1,
        validators=[Optional(), NumberRange(0, limits.GRACE_DAYS)],
    )

    def fill(self, contract: Contract) -> None:
        """What `obj=` does not fill: codes as text, the grouped terms, the officer's e-mail."""
        self.status.data = str(contract.status)
        self.penalty_rate.data = contract.penalty_rate_percent
        self.penalty_base.data = str(contract.penalty_base)
        self.penalty_cap.data = contract.penalty_cap_percent
        self.response_days.data = contract.response_days
        self.response_working.data = contract.response_working
        self.response_from_receipt.data = contract.response_from_receipt
        self.officer.data = contract.officer.email if contract.officer else ""

    def service_data(self) -> dict:
        """The form's values as `save_contract` takes them (the API's names and groups)."""
        grace = self.grace_working_days.data
        return {
            "number": self.number.data,
            "signed_on": self.signed_on.data,
            "customer_id": self.customer_id.data,
            "contractor_id": self.contractor_id.data,
            "project_id": self.project_id.data,
            "site_id": self.site_id.data,
            "subject": self.subject.data,
            "subject_kk": blank_to_none(self.subject_kk.data),
            "total_amount": self.total_amount.data,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "status": self.status.data,
            "officer": self.officer.data or None,
            "penalty": {
                "rate_percent_per_day": self.penalty_rate.data,
                "base": self.penalty_base.data,
                "cap_percent": self.penalty_cap.data,
            },
            "penalty_clause_no": blank_to_none(self.penalty_clause_no.data),
            "penalty_clause": blank_to_none(self.penalty_clause.data),
            "penalty_clause_kk": blank_to_none(self.penalty_clause_kk.data),
            "response_period": {
                "days": self.response_days.data,
                "working": self.response_working.data,
                "from_receipt": self.response_from_receipt.data,
            },
            "grace_working_days": grace if grace is not None else 1,
        }


class InstallmentForm(FlaskForm):
    due_on = DateField(_l("Due on"), validators=[DataRequired()])
    amount = MoneyField(_l("Amount, ₸"), validators=[DataRequired()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=limits.LINE)])
    paid_on = DateField(_l("Paid on"), validators=[Optional()])
    paid_amount = MoneyField(_l("Paid, ₸"), validators=[Optional()])

    def service_data(self) -> dict:
        return {
            "due_on": self.due_on.data,
            "amount": self.amount.data,
            "description": blank_to_none(self.description.data),
            "paid_on": self.paid_on.data,
            "paid_amount": self.paid_amount.data,
        }


class MilestoneForm(FlaskForm):
    field_map = {
        "relative.milestone_id": "relative_to",
        "relative.amount": "relative_amount",
        "relative.unit": "relative_unit",
        "relative.claim_id": "relative_to_claim",
    }

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=limits.LINE)])
    title_kk = StringField(_l("Title in Kazakh"), validators=[Optional(), Length(max=limits.LINE)])
    type = SelectField(_l("Type (OCDS)"), choices=MilestoneType.choices)
    obligor = SelectField(_l("Obligor"), choices=Obligor.choices)
    code = StringField(
        _l("Code (OCDS, optional)"), validators=[Optional(), Length(max=limits.CODE)]
    )
    responsible = SelectField(_l("Responsible officer"), choices=[])
    value = MoneyField(
        _l("Value at stake, ₸"),
        validators=[Optional()],
        description=_l("The penalty base when the contract counts it on the outstanding value."),
    )
    due_on = DateField(_l("Due on"), validators=[Optional()])
    relative_to = SelectField(
        _l("…or counted from a milestone"), choices=[], coerce=optional_int_coerce
    )
    relative_to_claim = SelectField(
        _l("…or counted from the sending of claim"), choices=[], coerce=optional_int_coerce
    )
    relative_amount = IntegerField(
        _l("Count"), validators=[Optional(), NumberRange(min=0, max=limits.OFFSET_DAYS)]
    )
    relative_unit = SelectField(_l("Unit"), choices=lambda: [("", "—"), *RelativeUnit.choices()])
    reason = StringField(
        _l("Reason for changing the due date"),
        validators=[Optional(), Length(max=limits.REASON)],
        description=_l("Required when the due date changes; the old date is kept."),
    )
    status = SelectField(_l("Status"), choices=MilestoneStatus.choices)
    met_on = DateField(_l("Met on"), validators=[Optional()])
    status_note = TextAreaField(
        _l("Note on the status"), validators=[Optional(), Length(max=limits.NOTE)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=limits.TEXT)])

    def fill(self, milestone: Milestone) -> None:
        """What `obj=` does not fill: codes as text, the anchors, the responsible's e-mail."""
        self.relative_to_claim.data = milestone.relative_to_claim_id
        self.type.data = str(milestone.type)
        self.obligor.data = str(milestone.obligor)
        self.status.data = str(milestone.status)
        self.responsible.data = milestone.responsible.email if milestone.responsible else ""
        self.relative_to.data = milestone.relative_to_id
        self.relative_unit.data = str(milestone.relative_unit) if milestone.relative_unit else ""

    def service_data(self, milestone: Milestone | None) -> dict:
        """The form's values as `save_milestone` takes them: a date counted from a milestone or
        a claim, or a due date (which makes a relative milestone plain again)."""
        data = {
            "title": self.title.data,
            "title_kk": blank_to_none(self.title_kk.data),
            "type": self.type.data,
            "obligor": self.obligor.data,
            "code": blank_to_none(self.code.data),
            "responsible": self.responsible.data or None,
            "value": self.value.data,
            "status": self.status.data,
            "met_on": self.met_on.data,
            "status_note": blank_to_none(self.status_note.data),
            "description": blank_to_none(self.description.data),
            "reason": blank_to_none(self.reason.data),
        }
        period = {"amount": self.relative_amount.data, "unit": self.relative_unit.data or None}
        if self.relative_to.data:
            data["relative"] = {"milestone_id": self.relative_to.data, **period}
        elif self.relative_to_claim.data:
            data["relative"] = {"claim_id": self.relative_to_claim.data, **period}
        else:
            if milestone is not None and milestone.is_relative:
                data["relative"] = None
            data["due_on"] = self.due_on.data
        return data


class ConfirmForm(FlaskForm):
    """A confirmation that is only a button (CSRF protection for a bulk action)."""


class MarkMetForm(FlaskForm):
    met_on = DateField(_l("Met on"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=limits.NOTE)])


class DocumentForm(FlaskForm):
    document_type = SelectField(_l("Type"), choices=DocumentType.choices)
    title = StringField(_l("Title"), validators=[Optional(), Length(max=limits.LINE)])
    file = FileField(_l("File"), validators=[FileRequired()])
