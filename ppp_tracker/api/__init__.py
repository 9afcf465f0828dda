"""JSON API v1 under /api/v1 with token authentication and an OpenAPI 3 document."""

from __future__ import annotations

import importlib

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask

from ppp_tracker.core.api import Api, DecimalText, MoneyField
from ppp_tracker.extensions import csrf

#: Modules that define a flask-smorest Blueprint named `blp`, in the order of the OpenAPI
#: document. The API is assembled here, above the features: a feature's API module joins this list.
API_MODULES = [
    "ppp_tracker.auth.api",
    "ppp_tracker.api.registry",
    "ppp_tracker.alerts.api",
    "ppp_tracker.claims.api",
    "ppp_tracker.reports.api",
]


def schema_name(schema) -> str:
    """Component names: ContractSchema → Contract, its partial (PATCH) form → ContractPatch."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and getattr(schema, "partial", False):
        name += "Patch"
    return name


def init_api(app: Flask) -> None:
    api = Api(
        app,
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
            "info": {
                "description": "Deadlines, penalties and claim letters of the PPP and concession "
                "contracts of Kazakhstan's penal system. Money is a string with two decimals, "
                'dates are YYYY-MM-DD, errors are {"errors": {field: [messages]}}.'
            },
            "servers": [{"url": "/"}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "flask users token"}
    )
    api.spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    api.ma_plugin.map_to_openapi_type(MoneyField, "string", None)
    api.ma_plugin.map_to_openapi_type(DecimalText, "string", None)
    for name in API_MODULES:
        blueprint = importlib.import_module(name).blp
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.extensions["ppp_api"] = api
