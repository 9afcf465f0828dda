"""A page's form and the API's schema of the same record give each field the same limit, so the
two cannot drift apart: the longest text, the smallest and largest number (core.limits)."""

from __future__ import annotations

import inspect

import marshmallow as ma
import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, NumberRange

from ppp_tracker.api.registry import contracts, milestones, parties, projects
from ppp_tracker.auth import forms as auth_forms
from ppp_tracker.core.api import IdField
from ppp_tracker.registry import forms as registry_forms

FORM_MODULES = (registry_forms, auth_forms)
SCHEMA_MODULES = (parties, projects, contracts, milestones)
#: Forms of pages the API has no resource for.
FORMS_WITHOUT_SCHEMA = {
    "ConfirmForm",
    "DocumentForm",
    "MarkMetForm",
    "LoginForm",
    "PasswordForm",
    "ProfileForm",
    "TokenForm",
    "UserForm",
}


def _classes(modules, base) -> dict[str, type]:
    return {
        name: cls
        for module in modules
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base) and cls is not base and cls.__module__ == module.__name__
    }


def form_limits(form_cls: type[FlaskForm]) -> dict[str, tuple]:
    """field -> (longest text, smallest number, largest number) as the form's validators say."""
    out = {}
    for name, field in inspect.getmembers(form_cls, lambda f: isinstance(f, UnboundField)):
        validators = field.kwargs.get("validators") or []
        length = next((v.max for v in validators if isinstance(v, Length)), None)
        numbers = next((v for v in validators if isinstance(v, NumberRange)), None)
        out[name] = (
            None if length in (None, -1) else length,
            numbers.min if numbers else None,
            numbers.max if numbers else None,
        )
    return out


def schema_limits(schema: ma.Schema, prefix: str = "") -> dict[str, tuple]:
    """dotted field -> the same triple from the schema's validators; nested objects (penalty,
    response period, relative date) by their dotted names, ids and lists of records left out
    (they have forms of their own, or are choices on the page)."""
    out = {}
    for name, field in schema.fields.items():
        if field.dump_only or isinstance(field, (IdField, ma.fields.List)):
            continue
        if isinstance(field, ma.fields.Nested):
            out.update(schema_limits(field.schema, f"{prefix}{name}."))
            continue
        length = next((v.max for v in field.validators if isinstance(v, ma.validate.Length)), None)
        numbers = next((v for v in field.validators if isinstance(v, ma.validate.Range)), None)
        out[f"{prefix}{name}"] = (
            length,
            numbers.min if numbers else None,
            numbers.max if numbers else None,
        )
    return out


def pairs() -> list[tuple[type, type]]:
    forms = _classes(FORM_MODULES, FlaskForm)
    schemas = _classes(SCHEMA_MODULES, ma.Schema)
    found = []
    for name, form_cls in sorted(forms.items()):
        schema_cls = schemas.get(name.removesuffix("Form") + "Schema")
        if schema_cls is None:
            assert name in FORMS_WITHOUT_SCHEMA, f"{name}: no {name[:-4]}Schema to compare with"
            continue
        found.append((form_cls, schema_cls))
    return found


def test_every_form_of_a_record_the_api_also_takes_is_compared():
    assert {f.__name__ for f, _s in pairs()} == {
        "ContractForm",
        "InstallmentForm",
        "InstitutionForm",
        "MilestoneForm",
        "PartyForm",
        "ProjectForm",
        "SiteForm",
        "StageForm",
    }


@pytest.mark.parametrize("form_cls, schema_cls", pairs(), ids=lambda c: c.__name__)
def test_a_form_and_the_api_give_a_field_the_same_limit(form_cls, schema_cls):
    in_form = form_limits(form_cls)
    field_map = getattr(form_cls, "field_map", {})
    compared = 0
    for api_name, api_limits in schema_limits(schema_cls()).items():
        name = field_map.get(api_name, api_name)
        if name not in in_form:
            continue
        compared += 1
        assert in_form[name] == api_limits, (
            f"{form_cls.__name__}.{name} allows (length, min, max) {in_form[name]}, "
            f"{schema_cls.__name__}.{api_name} {api_limits}: name one constant of core.limits"
        )
    assert compared >= 2


def test_the_comparison_sees_a_limit_that_differs():
    class Wide(ma.Schema):
        title = ma.fields.String(validate=ma.validate.Length(max=501))

    class Narrow(ma.Schema):
        amount = ma.fields.Integer(validate=ma.validate.Range(min=0, max=3651))

    limits = form_limits(registry_forms.MilestoneForm)
    assert limits["title"] != schema_limits(Wide())["title"]
    assert limits["relative_amount"] != schema_limits(Narrow())["amount"]
