"""What every API resource shares: the Api object, documented errors and their shape, field types
and paging. (Who may call: auth.api_access.)"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from http import HTTPStatus

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_smorest import Api as SmorestApi
from flask_smorest import abort as smorest_abort

from ppp_tracker.core import limits
from ppp_tracker.core.errors import Forbidden, Invalid
from ppp_tracker.core.validation import Errors, check_date_range
from ppp_tracker.db import db


class ErrorSchema(ma.Schema):
    """Errors: {"errors": {field: [messages]}}; "_request" names problems of the whole request."""

    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), required=True
    )


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema
    #: No catch-all "default" response: every operation names the errors it can answer
    #: (ApiBlueprint), so a client and schemathesis can tell a documented refusal from a lie.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        # The app's own handler (core.web) answers every error in the documented shape.
        pass


def documented_errors(
    path: str, method: str, *, public: bool, body: bool, query: bool, ids: bool
) -> set[int]:
    """The error statuses an operation can answer, by the rules every API view follows:
    401 without a valid token (public operations document their own), 403 when a write needs a
    role the caller lacks (reads need only READ, which every role has; /me is the caller's own),
    404 for a record named in the path outside the caller's scope, 400/413/422 for a body that
    is not JSON, too large or not valid, 400/422 for query arguments with a NUL character or not
    valid, 422 for a write the rules refuse, 409 for a claim that changed state under the
    caller; and 400 for a query parameter the operation does not know (a misspelt filter would
    otherwise be ignored: a silently wider answer), on every operation."""
    codes: set[int] = {400}
    write = method != "get"
    if not public:
        codes.add(401)
        if write and not path.startswith("/api/v1/me"):
            codes |= {403, 422}
    if ids:
        codes.add(404)
    if body:
        codes |= {400, 413, 422}
    if query:
        codes |= {400, 422}
    if write and (path.startswith("/api/v1/claims") or path.startswith("/api/v1/cases")):
        codes.add(409)
    return codes


def api_blueprint_class():
    from flask_smorest import Blueprint

    class ApiBlueprint(Blueprint):
        """Adds the documented error responses (`documented_errors`) to every operation."""

        def register_views_in_doc(self, api, app, spec, *, name, parameters):
            for endpoint, info in self._docs.items():
                full = f"{name}.{endpoint}"
                rule = next(app.url_map.iter_rules(full))
                path = rule.rule
                for method, op in info.items():
                    if method == "parameters" or not isinstance(op, dict):
                        continue
                    arguments = op.get("arguments", {}).get("parameters", [])
                    body = any(a.get("in") in ("json", "form", "files") for a in arguments)
                    query = any(a.get("in") == "query" for a in arguments)
                    codes = documented_errors(
                        path,
                        method,
                        public=full in PUBLIC_ENDPOINTS,
                        body=body,
                        query=query,
                        ids=bool(rule.arguments),
                    )
                    documented = {int(c) for c in op.get("response", {}).get("responses", {})}
                    responses = op.setdefault("manual_doc", {}).setdefault("responses", {})
                    for code in sorted(codes - documented):
                        responses.setdefault(str(code), HTTPStatus(code).name)
            super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)

    return ApiBlueprint


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nested messages → {"penalty.cap_percent": ["…"]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "_request"
            for field, msgs in flatten_errors(value, name).items():
                out.setdefault(field, []).extend(msgs)
    elif isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_request"] = [str(m) for m in messages]
        else:
            for index, value in enumerate(messages):
                for field, msgs in flatten_errors(value, f"{prefix}.{index}").items():
                    out.setdefault(field, []).extend(msgs)
    else:
        out[prefix or "_request"] = [str(messages)]
    return out


def webargs_errors(data: dict) -> dict[str, list[str]] | None:
    """The field errors webargs attached to a 422, without the location level (json, query)."""
    messages = data.get("messages")
    if not messages:
        return data.get("errors")
    merged: dict = {}
    for location, fields in messages.items():
        merged.update(fields if isinstance(fields, dict) else {location: fields})
    return flatten_errors(merged)


#: Operations called without a token (the token request itself, the OpenAPI document).
PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "tokens_api.Tokens"}


_RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """The query parameters each operation documents: (OpenAPI path, method) -> names."""
    found = current_app.extensions.get("ppp_api_query_parameters")
    if found is None:
        spec = current_app.extensions["ppp_api"].spec.to_dict()
        found = {
            (path, method): frozenset(
                p["name"] for p in op.get("parameters", []) if p.get("in") == "query"
            )
            for path, item in spec["paths"].items()
            for method, op in item.items()
            if isinstance(op, dict) and method in ("get", "post", "put", "patch", "delete")
        }
        current_app.extensions["ppp_api_query_parameters"] = found
    return found


def refuse_unknown_query_parameters() -> None:
    """A query parameter the operation does not document is refused (400, named), not ignored:
    `?regoin=KZ-35` must not answer with every region's records."""
    if not request.args or request.url_rule is None:
        return
    path = _RULE_ARGUMENT.sub(r"{\1}", request.url_rule.rule)
    known = _query_parameters().get((path, request.method.lower()))
    if known is None:
        return
    unknown = sorted(set(request.args) - known)
    if unknown:
        message = _(
            "Unknown query parameter; this call takes: %(known)s.",
            known=", ".join(sorted(known)) or _("none"),
        )
        smorest_abort(400, errors={name: [message] for name in unknown})


def run_service(fn, *args, **kwargs):
    """Call a service; its Invalid/Conflict/Forbidden become 422/409/403 with field errors."""
    try:
        result = fn(*args, **kwargs)
        db.session.commit()
    except Invalid as exc:
        db.session.rollback()
        _abort_with(exc.status, exc.errors)
    except Forbidden as exc:
        db.session.rollback()
        _abort_with(403, {"_request": [exc.message]})
    return result


def _abort_with(status: int, errors: dict[str, list[str]]):
    from werkzeug.exceptions import HTTPException, default_exceptions

    exc_class = default_exceptions.get(status, HTTPException)
    exc = exc_class()
    exc.data = {"errors": errors}
    raise exc


# --- field types --------------------------------------------------------------------------


#: Far above any contract here, and well inside Decimal's and BIGINT's precision.
MAX_MONEY = Decimal(10) ** 14


class MoneyField(ma.fields.Field):
    """Money as a string with two decimals ("77000000.00"), as the OpenAPI document says; a JSON
    number is refused, an integer too: JSON has one number type (a client's 77000000.00 may
    arrive as 77000000 and its 77000000.10 as 77000000.1), so only text carries tiyn exactly."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("pattern", r"^\d+(\.\d{1,2})?$")
        kwargs["metadata"].setdefault("example", "77000000.00")
        super().__init__(**kwargs)

    def _jsonschema_type_mapping(self):
        return {"type": "string"}

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{Decimal(value).quantize(Decimal('0.01'))}"

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError(
                _('Send money as a string with two decimals, e.g. "77000000.00".')
            )
        text = str(value).strip()
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise ma.ValidationError(_("Not an amount.")) from exc
        # Beyond 10^15 it is no amount (and 1e999999 could not even be quantized).
        if not amount.is_finite() or abs(amount) >= Decimal(10) ** 15:
            raise ma.ValidationError(_("Not an amount."))
        if abs(amount) >= MAX_MONEY:
            raise ma.ValidationError(_("The amount is implausibly large."))
        if amount != amount.quantize(Decimal("0.01")):
            raise ma.ValidationError(_("At most two decimals (whole tiyn)."))
        if amount < 0:
            raise ma.ValidationError(_("Must not be negative."))
        return amount.quantize(Decimal("0.01"))


class DecimalText(ma.fields.Field):
    """A non-negative decimal (percentages, areas) given as a string or a number."""

    def __init__(self, places: int = 4, **kwargs):
        self.places = places
        kwargs.setdefault("metadata", {})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ma.ValidationError(_("Must be a number."))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ma.ValidationError(_("Must be a number.")) from exc
        if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
            raise ma.ValidationError(_("Must be a number."))
        if number < 0:
            raise ma.ValidationError(_("Must not be negative."))
        if number.as_tuple().exponent < -self.places:
            raise ma.ValidationError(_("At most %(n)d decimals.", n=self.places))
        return number


class IdField(ma.fields.Integer):
    """The id of a record: a positive integer that fits the database's INTEGER."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=limits.MAX_ID))
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)


class QueryId(IdField):
    """An id given in a query string (`?contract_id=5`): the text of a positive integer.

    A query string is text, so `strict` (no "5" for 5, right for JSON bodies) would refuse every
    filter a client sends; anything but ASCII digits ("5.0", "٥", "1e3") is still refused."""

    def __init__(self, **kwargs):
        kwargs["strict"] = False
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictDate(ma.fields.Date):
    """A date as YYYY-MM-DD, nothing else, within the years the registry accepts
    (`core.validation.EARLIEST_DATE`..`LATEST_DATE`: anything else is a typing mistake, and a
    penalty counted back three years from 0001-01-01 has no year to land on)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) != 10:
            raise ma.ValidationError(_("Must be a date as YYYY-MM-DD."))
        try:
            parsed = date.fromisoformat(value)
        except ValueError as exc:
            raise ma.ValidationError(_("Must be a date as YYYY-MM-DD.")) from exc
        errors = Errors()
        check_date_range(errors, "date", parsed)
        if errors:
            raise ma.ValidationError(errors.errors["date"])
        return parsed


class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(min=1, max=limits.PER_PAGE)
    )


TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "How many items match, on all pages together",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def page_of(stmt, args: dict) -> list:
    """One page (`page`, `per_page`) of a select; the total goes out in X-Total-Count."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    g.api_total_count = total
    page, size = args.get("page", 1), args.get("per_page", 50)
    if (page - 1) * size >= total:
        return []
    return db.session.scalars(stmt.limit(size).offset((page - 1) * size)).unique().all()


def add_total_count_header(response):
    total = g.get("api_total_count")
    if total is not None:
        response.headers["X-Total-Count"] = str(total)
    return response


def one_of(enum_cls):
    return ma.validate.OneOf([m.value for m in enum_cls])


def enum_field(enum_cls, **kwargs):
    return ma.fields.String(
        validate=one_of(enum_cls), metadata={"enum": [m.value for m in enum_cls]}, **kwargs
    )
