"""Hostile request bodies for the JSON API that schemathesis does not write: JSON nested 100,000
deep, lone surrogates, NUL, bodies over the upload limit — each a 4xx in the documented error
shape, before or after authentication, never a 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ppp_tracker.db import db
from ppp_tracker.registry.models import Party

pytestmark = pytest.mark.usefixtures("app")


def _post(client, body: bytes, headers: dict | None = None):
    return client.post(
        "/api/v1/parties",
        data=body,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("authenticated", [True, False])
def test_deeply_nested_json_is_refused_not_a_recursion_error(
    client, make_user, api_token, authenticated
):
    headers = api_token(make_user("admin", None)) if authenticated else {}
    for body in ("[" * 100_000 + "]" * 100_000, '{"name": ' * 5_000 + "1" + "}" * 5_000):
        response = _post(client, body.encode(), headers)
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        assert list(response.get_json()["errors"]) == ["_request"]
    # An ordinary body of a few levels is still read (and checked by the rules).
    response = _post(client, b'{"name": "A", "kind": "contractor", "x": [[[{"y": 1}]]]}', headers)
    assert response.status_code in (401, 422)


def test_lone_surrogates_and_nul_are_refused_naming_the_field(client, make_user, api_token):
    headers = api_token(make_user("admin", None))
    for name in ("A\\ud800B", "\\udfffB", "A\\u0000B"):
        body = f'{{"kind": "contractor", "name": "{name}"}}'.encode()
        response = _post(client, body, headers)
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        assert list(response.get_json()["errors"]) == ["name"]
    # A real pair of surrogates is one character (an emoji) and is fine.
    response = _post(
        client, '{"kind": "contractor", "name": "ТОО \\ud83d\\ude00"}'.encode(), headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert db.session.scalar(sa.select(Party.name)) == "ТОО \U0001f600"


def test_a_body_over_the_limit_is_a_json_413(app, client, make_user, api_token):
    headers = api_token(make_user("admin", None))
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        body = b'{"kind": "contractor", "name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        response = _post(client, body, headers)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.status_code == 413
    assert "1" in response.get_json()["errors"]["_request"][0]  # the limit, in MB


def test_an_unknown_query_parameter_is_refused_naming_it_not_ignored(client, make_user, api_token):
    """A misspelt filter (`regoin`) must not answer with every region's records: 400 naming the
    parameter and the ones the call takes; the documented ones still work, and a write with an
    unknown parameter changes nothing."""
    from tests import factories

    factories.contract("KZ-35", number="241")
    factories.contract("KZ-63", number="777")
    headers = api_token(make_user("admin", None))
    r = client.get("/api/v1/contracts?regoin=KZ-35", headers=headers)
    assert r.status_code == 400, r.get_data(as_text=True)
    errors = r.get_json()["errors"]
    assert list(errors) == ["regoin"] and "region" in errors["regoin"][0]
    r = client.get("/api/v1/contracts?region=KZ-35", headers=headers)
    assert r.status_code == 200 and [c["number"] for c in r.get_json()] == ["241"]
    before = db.session.scalar(sa.select(sa.func.count(Party.id)))
    r = client.post(
        "/api/v1/parties?dry_run=1",
        json={"name": "ТОО «Лишний параметр»", "kind": "tenant"},
        headers=headers,
    )
    assert r.status_code == 400 and "dry_run" in r.get_json()["errors"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Party.id))) == before
    # Without a token it is still a 401 first (nothing about the API is told to a stranger).
    assert client.get("/api/v1/contracts?regoin=KZ-35").status_code == 401


def test_a_date_outside_the_registry_years_is_a_422_not_a_500(client, make_user, api_token):
    """Found by `make fuzz` (07.12.2026): a contract's penalty asked on 0001-01-01 counted the
    limitation period back three years into year -2 and answered 500. Every API date is now
    within the years the registry accepts (1991–2100), refused with the field and the reason."""
    from tests import factories

    contract = factories.contract("KZ-35", number="241")
    headers = api_token(make_user("admin", None))
    for day in ("0001-01-01", "1990-12-31", "2101-01-01", "9999-12-31"):
        r = client.get(f"/api/v1/contracts/{contract.id}/penalty?as_of={day}", headers=headers)
        assert r.status_code == 422, (day, r.status_code)
        assert "1991" in r.get_json()["errors"]["as_of"][0], day
    ok = client.get(f"/api/v1/contracts/{contract.id}/penalty?as_of=1991-01-01", headers=headers)
    assert ok.status_code == 200
