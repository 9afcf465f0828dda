"""Hostile input against the whole API, generated from its own OpenAPI document (schemathesis):
no 5xx, and every response matches what the document promises — for an administrator, a
regional officer and a lawyer, so that the refusals (403 for a role, 404 outside the region)
are checked against the document too.

In `make test` the runs are derandomized (the same examples on every run, so a green suite stays
green by itself); `make fuzz` runs them with random data and more examples to hunt. A case that
the hunt finds becomes a fixed regression test (tests/test_api_query_parameters.py and the like),
never a retry."""

from __future__ import annotations

import os
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import FuzzingPhaseData
from schemathesis.specs.openapi import checks

from tests.factories import api_world

pytestmark = pytest.mark.slow

#: `make fuzz` sets FUZZ=1: random examples (the seed is printed by Hypothesis on failure).
FUZZ = os.environ.get("FUZZ") == "1"
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "200" if FUZZ else "25"))
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
#: Names of ids (in paths and bodies) and the kind of record they name.
ID_NAMES = {
    "party_id": "party",
    "customer_id": "party",
    "contractor_id": "party",
    "project_id": "project",
    "site_id": "site",
    "institution": "institution",
    "contract_id": "contract",
    "milestone_id": "milestone",
    "claim_id": "claim",
    "case_id": "case",
}


def _still_negative(case, replaced: set[str]) -> bool:
    """Whether the request as sent still breaks the document. The test sends its own valid
    `Authorization` header (a negative one is replaced) and known record ids in the path and
    the body: a part made negative only there is valid as sent, and its acceptance proves
    nothing. So is a query made negative only by names whose values go nowhere on the wire
    (`?page=1` is all that `{"page": 1, "x": []}` sends). The rest must be refused
    (schemathesis's `negative_data_rejection`)."""
    components = getattr(case.meta, "components", None) or {}
    negative = {
        location.name.lower() for location, info in components.items() if info.mode.is_negative
    }
    negative -= {"header"} | replaced
    if "query" in negative and not _query_negative_as_sent(case):
        negative.discard("query")
    return bool(negative)


def _query_negative_as_sent(case) -> bool:
    documented = {p.name for p in case.operation.query}
    sent = {name for name, value in (case.query or {}).items() if value not in ([], None)}
    if sent - documented:
        return True  # an undocumented name reaches the API, which must refuse it (400)
    data = case.meta.phase.data
    if not isinstance(data, FuzzingPhaseData) or not data.mutations:
        return True  # nothing says what was broken: let schemathesis judge
    return any(
        m.parameter_location == ParameterLocation.QUERY and m.parameter in documented
        for m in data.mutations
    )


@pytest.mark.parametrize(
    ("role", "region", "mode"),
    [
        ("admin", None, GenerationMode.POSITIVE),
        ("officer", "KZ-35", GenerationMode.POSITIVE),
        ("legal", "KZ-35", GenerationMode.POSITIVE),
        # Data that breaks the document's own rules: refused with a documented 4xx, never
        # accepted (schemathesis's negative_data_rejection).
        ("admin", None, GenerationMode.NEGATIVE),
    ],
)
def test_no_input_breaks_the_api(app, make_user, api_token, role, region, mode):
    headers = api_token(make_user(role, region))
    # Records to find — in the caller's region and in another one — so that reads and writes
    # reach the code past "404", and scoped callers meet their 404s.
    known: dict[str, list[int]] = defaultdict(list)
    for where in ("KZ-35", "KZ-11"):
        for kind, record_id in api_world(where).items():
            known[kind].append(record_id)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The scoped roles and the negative data need fewer examples to meet their refusals.
    full = role == "admin" and mode == GenerationMode.POSITIVE
    examples = EXAMPLES if full else max(5, EXAMPLES // 2)
    failures: list[str] = []
    statuses: dict[str, Counter] = defaultdict(Counter)
    rejection_checked = [0]

    def known_id(name: str, turn: int):
        """Every third call names a record in the caller's region, every third one elsewhere."""
        kind = ID_NAMES.get(name)
        return None if kind is None or turn % 3 == 2 else known[kind][turn % 3]

    def run(operation) -> None:
        turns = iter(range(10**6))

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=not FUZZ,
        )
        def exercise(case):
            turn = next(turns)
            replaced = set()
            for name in list(case.path_parameters or {}):
                if (pick := known_id(name, turn)) is not None:
                    case.path_parameters[name] = pick
                    replaced.add("path")
            if isinstance(case.body, dict):
                for name in list(case.body):
                    if (pick := known_id(name, turn)) is not None:
                        case.body[name] = pick
                        replaced.add("body")
            with app.app_context():  # each call in its own context, as a real request
                response = case.call(headers=headers)
            statuses[operation.label][response.status_code] += 1
            try:
                extra = (
                    [checks.negative_data_rejection]
                    if mode == GenerationMode.NEGATIVE and _still_negative(case, replaced)
                    else []
                )
                rejection_checked[0] += len(extra)
                case.validate_response(response, checks=CHECKS + extra)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis: a FailureGroup
                failures.append(f"{operation.label}: {str(exc)[:800]}")

        exercise()

    for result in schema.get_all_operations():
        run(result.ok())
    summary = "\n".join(f"{label}: {dict(counts)}" for label, counts in sorted(statuses.items()))
    print(f"\n{role} ({mode.value}):\n{summary}")
    assert failures == [], "\n\n".join(failures[:60])
    if mode == GenerationMode.NEGATIVE:
        assert all(code < 500 for counts in statuses.values() for code in counts), summary
        # Most negative calls keep a broken part the test did not replace: they were checked.
        print(f"negative calls checked for rejection: {rejection_checked[0]}")
        assert rejection_checked[0] > len(statuses), rejection_checked
        return
    # The calls reached past validation: every read of one record found one at least once, and
    # the caller's writes were accepted somewhere.
    reads = [label for label in statuses if label.startswith("GET") and "{" in label]
    assert reads and all(statuses[label][200] for label in reads), summary
    accepted = sum(
        n
        for label, counts in statuses.items()
        if not label.startswith("GET")
        for code, n in counts.items()
        if 200 <= code < 300
    )
    assert accepted > 0, summary
