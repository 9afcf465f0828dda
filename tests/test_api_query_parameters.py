"""Every API operation refuses a query parameter it does not document (400, naming it): a
misspelt filter must never answer with more records than asked for. The operations are walked
from the OpenAPI document itself, so a new operation is covered the day it is added."""

from __future__ import annotations

import pytest

from tests.factories import api_world

#: Path arguments of the document and the kind of record `api_world` makes for them.
PATH_KINDS = {
    "party_id": "party",
    "project_id": "project",
    "site_id": "site",
    "contract_id": "contract",
    "milestone_id": "milestone",
    "claim_id": "claim",
    "case_id": "case",
}
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(client) -> list[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return [
        (method, path)
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item
    ]


def _url(path: str, ids: dict[str, int]) -> str:
    for name, kind in PATH_KINDS.items():
        path = path.replace("{" + name + "}", str(ids[kind]))
    assert "{" not in path, f"no record for a path argument of {path}"
    return path


def test_every_operation_refuses_an_undocumented_query_parameter(app, client, make_user, api_token):
    headers = api_token(make_user("admin", None))
    ids = api_world("KZ-35")
    operations = _operations(client)
    assert len(operations) > 40, operations  # the whole document, not a part of it
    accepted = []
    for method, path in operations:
        url = _url(path, ids)
        response = client.open(
            url,
            method=method.upper(),
            query_string="regoin=KZ-35",  # as a client sends it: text
            headers=headers,
            json={} if method != "get" else None,
        )
        errors = (response.get_json(silent=True) or {}).get("errors", {})
        if response.status_code != 400 or "regoin" not in errors:
            accepted.append(f"{method.upper()} {path}: {response.status_code} {errors}")
    assert accepted == [], "\n".join(accepted)


@pytest.mark.parametrize(
    "query",
    [
        "page=1&=null",  # a parameter without a name (found by the negative schemathesis run)
        "page=1&%C2%88J=3",  # a name in other characters
        "page=1&page_size=5",  # a near miss of `per_page`
    ],
)
def test_a_list_refuses_names_it_does_not_know(app, client, make_user, api_token, query):
    headers = api_token(make_user("admin", None))
    response = client.get("/api/v1/institutions", query_string=query, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    message = next(iter(response.get_json()["errors"].values()))[0]
    assert "page" in message and "per_page" in message  # it says what the call takes


def test_documented_parameters_pass_as_text(app, client, make_user, api_token):
    """The other side of the rule: the names the document lists are accepted as a client sends
    them (query strings are text)."""
    headers = api_token(make_user("admin", None))
    ids = api_world("KZ-35")
    response = client.get(
        "/api/v1/claims",
        query_string=f"page=1&per_page=5&contract_id={ids['contract']}&region=KZ-35",
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [claim["id"] for claim in response.get_json()] == [ids["claim"]]


def test_the_token_request_refuses_undocumented_parameters_too(app, client, make_user):
    """The public token request is checked like the rest, before the password is."""
    user = make_user("officer", "KZ-35")
    response = client.post(
        "/api/v1/tokens", query_string="remember=1", auth=(user.email, "wrong password")
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "remember" in response.get_json()["errors"]
