"""Going through the rows of an import file with the registry's own services (so the rules are
those of the forms and the API), recording each bad row with its number, column and reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from ppp_tracker.auth.models import User
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.folding import fold
from ppp_tracker.db import db
from ppp_tracker.registry.codes import MilestoneStatus
from ppp_tracker.registry.models import Contract, Institution, ProductionSite, Project
from ppp_tracker.registry.services.contracts import save_contract
from ppp_tracker.registry.services.milestones import save_milestone
from ppp_tracker.registry.services.parties import save_party
from ppp_tracker.registry.services.projects import save_site
from ppp_tracker.reports.import_files import (
    CONTRACT_FIELDS,
    MILESTONE_FIELDS,
    PARTY_COLUMNS,
    SITE_COLUMNS,
    read_file,
)
from ppp_tracker.reports.import_values import Converter, RowError, RowGroupError, convert
from ppp_tracker.reports.models import ImportBatch, ImportKind

# --- going through the rows ----------------------------------------------------------------------


@dataclass
class Outcome:
    created: int = 0
    errors: list[dict] = field(default_factory=list)
    #: Column key → its letter in the file ("C"), to name the cell of a problem.
    letters: dict[str, str] = field(default_factory=dict)

    def add(self, row: int, column: str | None, message: str) -> None:
        self.errors.append(
            {
                "row": row,
                "column": column,
                "letter": self.letters.get(column or ""),
                "message": str(message),
            }
        )


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at `index` (from 0): A, …, Z, AA, AB…"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _service_errors(outcome: Outcome, row: int, exc: Invalid, field_map: dict[str, str]) -> None:
    for field_name, messages in exc.errors.items():
        column = field_map.get(field_name, field_name)
        for message in messages:
            outcome.add(row, column, message)


ProgressFn = Callable[[int], None]


def process(batch: ImportBatch, progress: ProgressFn | None = None) -> Outcome:
    """Apply every row through the registry services in the current transaction and collect
    the problems. The caller commits when there are none and it means to import, else rolls back.
    """
    user = db.session.get(User, batch.user_id)
    outcome = Outcome()
    if user is None or not user.active:
        outcome.add(0, None, _("The user who uploaded the file can no longer make changes."))
        return outcome
    read = read_file(batch.kind, batch.filename, batch.content)
    outcome.letters = {key: column_letter(index) for index, key in read.mapping.items()}
    converter = Converter(user, batch.kind)
    handler = {
        ImportKind.PARTIES: _party_row,
        ImportKind.SITES: _site_row,
        ImportKind.CONTRACTS: _contract_row,
    }[ImportKind(batch.kind)]
    state: dict[str, Any] = {}
    for done, (number, values) in enumerate(read.rows, 1):
        try:
            handler(user, converter, number, values, outcome, state)
        except RowGroupError as exc:
            for problem in exc.problems:
                outcome.add(number, problem.column, problem.message)
        except RowError as exc:
            outcome.add(number, exc.column, exc.message)
        except Invalid as exc:
            _service_errors(outcome, number, exc, state.get("field_map", {}))
        if progress is not None:
            progress(done)
    return outcome


def _party_row(user, converter, number, values, outcome: Outcome, state) -> None:
    data = convert(converter, values, [c.key for c in PARTY_COLUMNS])
    bins = state.setdefault("bins", {})
    if data.get("bin"):
        key = str(data["bin"]).replace(" ", "")
        if key in bins:
            raise RowError("bin", _("The same BIN/IIN as row %(n)d.", n=bins[key]))
        bins[key] = number
    save_party(user, data)
    outcome.created += 1


def _site_row(user, converter, number, values, outcome: Outcome, state) -> None:
    data = convert(converter, values, [c.key for c in SITE_COLUMNS if c.key != "institution"])
    institution_text = (values.get("institution") or "").strip()
    if not institution_text:
        raise RowError("institution", _("This field is required."))
    data["institution"] = converter.scoped_one("institution", Institution, "name", institution_text)
    if "operator" in data:
        data["operator_id"] = data.pop("operator")
    if data.get("employed") is None:
        data.pop("employed", None)
    state["field_map"] = {"operator_id": "operator"}
    save_site(user, data)
    outcome.created += 1


#: The contract service's names of its fields -> the file's columns.
CONTRACT_FIELD_MAP = {
    "customer_id": "customer",
    "contractor_id": "contractor",
    "project_id": "project",
    "site_id": "site",
    "penalty.rate_percent_per_day": "penalty_rate",
    "penalty.base": "penalty_base",
    "penalty.cap_percent": "penalty_cap",
    "response_period.days": "response_days",
    "response_period.working": "response_working",
}


def _contract_row(user, converter, number, values, outcome: Outcome, state) -> None:
    """A contract's row: the contract (on its first row; repeated or left empty on the rows of
    its further milestones) and a milestone of it."""
    contracts: dict[tuple, tuple[int, Contract | None, dict]] = state.setdefault("contracts", {})
    state["field_map"] = CONTRACT_FIELD_MAP
    key = _contract_key(values, state)
    previous = contracts.get(key)
    if previous is None:
        raw = {k: (values.get(k) or "").strip() for k in CONTRACT_FIELDS}
        # Its further rows know the contract's first row even when it cannot be saved.
        contracts[key] = (number, None, raw)
        contracts[key] = (number, _new_contract(user, converter, values, raw, outcome), raw)
    elif not _repeated_contract_row(converter, values, previous):
        return
    if (values.get("milestone_title") or "").strip():
        _milestone(user, converter, values, contracts[key][1], outcome, state)
    elif any((values.get(k) or "").strip() for k in MILESTONE_FIELDS):
        raise RowError("milestone_title", _("Give the milestone's title."))


def _contract_key(values: dict[str, str], state) -> tuple:
    """Which contract a row is of: its number, signing day and customer."""
    number_text = fold(values.get("number"))
    signed_text = (values.get("signed_on") or "").strip()
    customer_text = fold(values.get("customer"))
    last_key: dict[str, tuple] = state.setdefault("last_key", {})
    if not signed_text and not customer_text and number_text in last_key:
        # A further milestone of the contract above, its contract columns left empty.
        return last_key[number_text]
    key = (number_text, signed_text, customer_text)
    last_key[number_text] = key
    return key


def _new_contract(user, converter, values, raw: dict[str, str], outcome: Outcome) -> Contract:
    """Save the contract of its first row (`raw`: its texts); RowGroupError with every problem
    of the row, its milestone's too."""
    problems: list[RowError] = []
    try:
        data = convert(
            converter, values, [k for k in CONTRACT_FIELDS if k not in ("project", "site")]
        )
    except RowGroupError as exc:
        data, problems = {}, list(exc.problems)
    project_text, site_text = raw["project"], raw["site"]
    try:
        if bool(project_text) == bool(site_text):
            raise RowError(
                "project", _("Give either a project or a production site (exactly one).")
            )
        if project_text:
            data["project_id"] = converter.scoped_one("project", Project, "title", project_text)
        else:
            data["site_id"] = converter.scoped_one("site", ProductionSite, "name", site_text)
    except RowError as exc:
        problems.append(exc)
    if not problems:
        try:
            contract = save_contract(user, _contract_data(data))
        except Invalid as exc:
            problems += [
                RowError(CONTRACT_FIELD_MAP.get(name, name), message)
                for name, messages in exc.errors.items()
                for message in messages
            ]
        else:
            outcome.created += 1
            return contract
    # The row's milestone is checked too: every problem of the file at once.
    raise RowGroupError(problems + _milestone_problems(converter, values))


def _repeated_contract_row(converter, values, previous: tuple) -> bool:
    """A further row of a contract: its contract columns repeat the first row's or are empty.
    False: the contract could not be saved, and the row has nothing else wrong."""
    first_row, contract, raw = previous
    problems = [
        RowError(
            field_key,
            _(
                "Differs from row %(n)d of the same contract; repeat it or leave it empty.",
                n=first_row,
            ),
        )
        for field_key in CONTRACT_FIELDS
        if (values.get(field_key) or "").strip()
        and (values.get(field_key) or "").strip() != raw.get(field_key, "")
    ]
    if problems or contract is None:
        # A contract with problems (named in its row) cannot take its milestones; what this
        # row can be checked for alone is checked now, not after the contract is corrected.
        problems += _milestone_problems(converter, values)
        if problems:
            raise RowGroupError(problems)
        return False
    return True


def _contract_data(data: dict) -> dict:
    out = {
        k: data[k]
        for k in (
            "number",
            "signed_on",
            "subject",
            "total_amount",
            "starts_on",
            "ends_on",
            "status",
            "project_id",
            "site_id",
        )
        if k in data and data[k] is not None
    }
    out["customer_id"] = data.get("customer")
    out["contractor_id"] = data.get("contractor")
    if data.get("officer"):
        out["officer"] = data["officer"]
    for group, names in _CONTRACT_GROUPS.items():
        given = {name: data[key] for key, name in names.items() if data.get(key) is not None}
        if given:
            out[group] = given
    return out


#: The contract service's nested fields: group -> {the file's column: the field's name}.
_CONTRACT_GROUPS = {
    "penalty": {
        "penalty_rate": "rate_percent_per_day",
        "penalty_base": "base",
        "penalty_cap": "cap_percent",
    },
    "response_period": {"response_days": "days", "response_working": "working"},
}


def _milestone_problems(converter: Converter, values: dict[str, str]) -> list[RowError]:
    """What is wrong with a row's milestone on its own (without its contract)."""
    if not any((values.get(k) or "").strip() for k in MILESTONE_FIELDS):
        return []
    problems: list[RowError] = []
    try:
        data = convert(converter, values, MILESTONE_FIELDS)
    except RowGroupError as exc:
        problems, data = list(exc.problems), {}
    if not (values.get("milestone_title") or "").strip():
        problems.append(RowError("milestone_title", _("Give the milestone's title.")))
    elif not (values.get("milestone_type") or "").strip() and data.get("milestone_type") is None:
        problems.append(RowError("milestone_type", _("This field is required.")))
    return problems


def _milestone(user, converter, values, contract: Contract | None, outcome: Outcome, state) -> None:
    data = convert(converter, values, MILESTONE_FIELDS)
    if data.get("milestone_type") is None:
        raise RowError("milestone_type", _("This field is required."))
    if contract is None:  # pragma: no cover - the contract row raised before
        return
    service_data: dict[str, Any] = {
        "title": data["milestone_title"],
        "type": data["milestone_type"],
        "due_on": data.get("milestone_due_on"),
    }
    for source, target in (
        ("milestone_value", "value"),
        ("milestone_obligor", "obligor"),
        ("milestone_responsible", "responsible"),
        ("milestone_met_on", "met_on"),
    ):
        if data.get(source) is not None:
            service_data[target] = data[source]
    if service_data.get("met_on") is not None:
        service_data["status"] = MilestoneStatus.MET.value
    columns = {
        "title": "milestone_title",
        "type": "milestone_type",
        "due_on": "milestone_due_on",
        "value": "milestone_value",
        "obligor": "milestone_obligor",
        "responsible": "milestone_responsible",
        "met_on": "milestone_met_on",
        "status": "milestone_met_on",
    }
    try:
        save_milestone(user, contract, service_data)
    except Invalid as exc:
        # The service names the milestone's fields; the file calls them milestone_….
        raise Invalid({columns.get(k, k): v for k, v in exc.errors.items()}) from None
    outcome.created += 1
