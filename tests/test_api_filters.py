"""Every documented query parameter of the API works as a client sends it: text in a query string
(`?contract_id=5`), not a JSON number. The parameters are walked from the OpenAPI document, so a
filter added later is covered the day it is documented."""

from __future__ import annotations

from datetime import date

from tests import factories
from tests.factories import api_world
from tests.test_api_query_parameters import _url

#: A value of each enumerated filter that the world below has a record for.
ENUM_VALUES = {
    "kind": "contractor",
    "arrangement": "lease",
    "status": None,  # the operation's own: contracts "active", claims "draft"
    "outcome": "pending",
    "state": "overdue",
    "lang": "kk",
}
STATUS = {"/api/v1/contracts": "active", "/api/v1/claims": "draft"}


def _world() -> dict[str, int]:
    ids = api_world("KZ-35")
    site = factories.site("KZ-35", name="Цех на участке")
    on_site = factories.contract("KZ-35", number="У-2026-002", site_id=site.id)
    factories.milestone(on_site, title="Поставка", due_on=date(2014, 5, 2))
    factories.contract("KZ-63", number="В-2026-003")
    return {**ids, "site": site.id, "on_site": on_site.id}


def _value(path: str, parameter: dict, ids: dict[str, int]) -> str:
    """The text a client would put in the query string for this parameter."""
    name, schema = parameter["name"], parameter["schema"]
    if name.endswith("_id"):
        return str(ids[name.removesuffix("_id")])
    if schema.get("enum"):
        return STATUS[path] if name == "status" else ENUM_VALUES[name]
    if schema.get("format") == "date":
        return "2014-06-12"
    if schema.get("type") == "integer":
        return {"page": "1", "per_page": "50", "within_days": "30"}[name]
    return {"q": "подрядчик", "region": "KZ-35", "number": "1987"}[name]


def _parameters(client) -> list[tuple[str, dict]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return [
        (path, parameter)
        for path, item in spec["paths"].items()
        if "get" in item
        for parameter in item["get"].get("parameters", [])
        if parameter["in"] == "query"
    ]


def test_every_documented_query_parameter_is_accepted_as_text(app, client, make_user, api_token):
    headers = api_token(make_user("admin", None))
    ids = _world()
    parameters = _parameters(client)
    assert len(parameters) > 30, parameters  # the whole document, not a part of it
    refused = []
    for path, parameter in parameters:
        query = f"{parameter['name']}={_value(path, parameter, ids)}"
        response = client.get(_url(path, ids), query_string=query, headers=headers)
        if response.status_code != 200:
            refused.append(f"GET {path}?{query}: {response.status_code} {response.get_json()}")
    assert refused == [], "\n".join(refused)


def _listed(client, headers, url: str, query: str, key: str) -> list:
    response = client.get(url, query_string=query, headers=headers)
    assert response.status_code == 200, (url, query, response.get_json())
    return [item[key] for item in response.get_json()]


def test_the_id_filters_narrow_the_lists_to_the_record_asked_for(app, client, make_user, api_token):
    """The filters of the issue: `?contract_id=…` on the deadlines, `?project_id=…` and
    `?site_id=…` on the contracts, `?contract_id=…` on claims and lawsuits."""
    headers = api_token(make_user("admin", None))
    ids = _world()
    project_contract, site_contract = ids["contract"], ids["on_site"]
    every = _listed(client, headers, "/api/v1/contracts", "", "id")
    assert {project_contract, site_contract} < set(every)
    by_project = _listed(client, headers, "/api/v1/contracts", f"project_id={ids['project']}", "id")
    assert by_project == [project_contract]
    by_site = _listed(client, headers, "/api/v1/contracts", f"site_id={ids['site']}", "id")
    assert by_site == [site_contract]
    overdue = "state=overdue&as_of=2014-06-12"
    deadlines = _listed(client, headers, "/api/v1/deadlines", overdue, "contract_number")
    assert sorted(deadlines) == sorted(["У-2026-002", _number(client, headers, project_contract)])
    for contract_id in (project_contract, site_contract):
        narrowed = _listed(
            client,
            headers,
            "/api/v1/deadlines",
            f"{overdue}&contract_id={contract_id}",
            "contract_number",
        )
        assert narrowed == [_number(client, headers, contract_id)]
    for resource, record in (("claims", "claim"), ("cases", "case")):
        assert _listed(
            client, headers, f"/api/v1/{resource}", f"contract_id={project_contract}", "id"
        ) == [ids[record]]
        assert (
            _listed(client, headers, f"/api/v1/{resource}", f"contract_id={site_contract}", "id")
            == []
        )


def _number(client, headers, contract_id: int) -> str:
    return client.get(f"/api/v1/contracts/{contract_id}", headers=headers).get_json()["number"]


def test_an_id_that_is_not_a_whole_number_is_refused_naming_the_parameter(
    app, client, make_user, api_token
):
    headers = api_token(make_user("admin", None))
    for text in ("abc", "5.0", "-1", "0", "99999999999", "%D9%A5"):
        response = client.get(
            "/api/v1/contracts", query_string=f"project_id={text}", headers=headers
        )
        assert response.status_code == 422, (text, response.status_code)
        assert list(response.get_json()["errors"]) == ["project_id"], text
