"""The departments that send claim letters: their requisites per region, edited by admins.

The letterhead, the payment details of the demand (ИИК, БИК and, for a state body, КБК and КНП),
the signatory, the executor and the Civil Code articles cited come from here; a region without a
department's row falls back to the contract's customer party (docs/claims.md).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker.claims.models import DEFAULT_LEGAL_BASIS, Department
from ppp_tracker.core import limits
from ppp_tracker.core.regions import Region
from ppp_tracker.core.validation import Errors, check_text
from ppp_tracker.db import db
from ppp_tracker.registry.identifiers import bik_problem, bin_problem, iban_problem

#: Text fields of a department and their longest length (DepartmentForm in claims/forms.py
#: checks the same on the page; this check serves the demo data and any import).
TEXT_FIELDS = {
    "name_ru": limits.NAME,
    "name_kk": limits.NAME,
    "address_ru": limits.LINE,
    "address_kk": limits.LINE,
    "phone": limits.CODE,
    "bank_ru": limits.NAME,
    "bank_kk": limits.NAME,
    "head_position_ru": limits.NAME,
    "head_position_kk": limits.NAME,
    "head_name": limits.NAME,
    "executor_name": limits.NAME,
    "executor_phone": limits.CODE,
}
#: One article ("293"), an inserted one ("353-1"), or a range of articles ("349–351").
_ARTICLE = re.compile(r"(\d{1,4}(?:-\d{1,4})?)(?:\s*[–—]\s*(\d{1,4}(?:-\d{1,2})?))?")


def _number(article: str) -> tuple[int, int]:
    main, _dash, sub = article.partition("-")
    return int(main), int(sub or 0)


def parse_legal_basis(errors: Errors, field: str, value) -> str | None:
    """ "272, 277, 293, 349–351": articles separated by commas; a range takes an en-dash (a
    hyphen is part of an inserted article's number, as in 353-1)."""
    text = check_text(errors, field, value, required=True, max_length=limits.NAME)
    if text is None:
        return None
    items = []
    for raw in text.split(","):
        raw = raw.strip()
        match = _ARTICLE.fullmatch(raw)
        if not raw or match is None:
            errors.add(
                field,
                _(
                    "«%(item)s» is not an article number; write numbers separated by commas, "
                    "a range with a dash: 272, 277, 293, 349–351.",
                    item=raw,
                ),
            )
            return None
        first, last = match.groups()
        main, _dash, sub = first.partition("-")
        if last is None and sub and int(sub) > int(main):
            # "349-351" typed with a hyphen is a range; "353-1" is an inserted article.
            first, last = main, sub
        if last is not None and _number(last) <= _number(first):
            errors.add(field, _("The range %(item)s does not go upwards.", item=raw))
            return None
        items.append(first if last is None else f"{first}–{last}")
    return ", ".join(items)


def department_for(region_code: str) -> Department | None:
    return db.session.scalar(sa.select(Department).where(Department.region_code == region_code))


def save_department(user, region_code: str, data: dict) -> Department:
    """Create or change the department of a region; every problem is collected before raising."""
    errors = Errors()
    if db.session.get(Region, region_code) is None:
        errors.add("region", _("Unknown region code %(code)s.", code=region_code))
        errors.raise_if_any()
    values: dict[str, Any] = {}
    for field, length in TEXT_FIELDS.items():
        values[field] = check_text(
            errors, field, data.get(field), required=field == "name_ru", max_length=length
        )
    bin_ = _compact(data.get("bin"))
    if bin_:
        problem = bin_problem(bin_)
        if problem == "must be exactly 12 digits":
            errors.add("bin", _("A BIN/IIN is exactly 12 digits."))
        elif problem:
            errors.add("bin", _("This BIN/IIN is not valid: the control digit does not match."))
    values["bin"] = bin_ or None
    iik = _compact(data.get("iik")).upper()
    if iik:
        problem = iban_problem(iik)
        if problem == "the check digits do not match":
            errors.add("iik", _("This account (IIK) is not valid: its check digits do not match."))
        elif problem:
            errors.add(
                "iik", _("An account (IIK) is 20 characters: KZ and 18 digits or capital letters.")
            )
    values["iik"] = iik or None
    bik = _compact(data.get("bik")).upper()
    if bik and bik_problem(bik):
        errors.add("bik", _("A bank code (BIK) is 8 or 11 letters and digits, like KKMFKZ2A."))
    values["bik"] = bik or None
    for field, size, message in (
        ("kbk", 6, _("A budget classification code (KBK) is 6 digits.")),
        ("knp", 3, _("A payment purpose code (KNP) is 3 digits.")),
    ):
        code = _compact(data.get(field))
        if code and (len(code) != size or not code.isdigit() or not code.isascii()):
            errors.add(field, message)
        values[field] = code or None
    if (values["kbk"] or values["knp"] or values["bik"]) and not values["iik"]:
        errors.add("iik", _("Give the account (IIK) the payment details belong to."))
    values["legal_basis"] = parse_legal_basis(
        errors, "legal_basis", data.get("legal_basis") or DEFAULT_LEGAL_BASIS
    )
    errors.raise_if_any()
    department = department_for(region_code)
    if department is None:
        department = Department(region_code=region_code)
        db.session.add(department)
    for key, value in values.items():
        if getattr(department, key) != value:
            setattr(department, key, value)
    db.session.flush()
    return department


def _compact(value) -> str:
    """A code as typed, without the spaces people put in to read it."""
    if not isinstance(value, str):
        return ""
    return re.sub(r"\s+", "", value)
