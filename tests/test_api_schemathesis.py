"""Hostile input against the whole API, generated from its own OpenAPI document (schemathesis):
no 5xx, and every response matches what the document promises."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def test_no_input_breaks_the_api(app, make_user, api_token):
    from tests import factories

    headers = api_token(make_user("admin", None))
    # Something to find, so that reads and updates reach the code past "404".
    contract = factories.contract("KZ-35")
    factories.milestone(contract)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []

    def run(operation) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def exercise(case):
            with app.app_context():  # each call in its own context, as a real request
                response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"{operation.label}: {str(exc)[:800]}")

        exercise()

    for result in schema.get_all_operations():
        run(result.ok())
    assert failures == [], "\n\n".join(failures[:10])
