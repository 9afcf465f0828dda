"""Queries per page: a list costs the same number of queries for 2 rows as for 20 (no N+1),
and what every page shares costs the user and the scan banner, nothing more."""

from __future__ import annotations

from datetime import date

import pytest

from ppp_tracker.core import versions
from tests import factories
from tests.alerting import karaganda, purge_alert_queue  # noqa: F401
from tests.conftest import login
from tests.test_reports_dashboard import _statements_of


def _page_statements(app, client, url: str) -> list[str]:
    def get():
        response = client.get(url)
        assert response.status_code == 200, url

    get()  # the first visit may load what later ones find cached (the calendar, templates)
    # …and keeps the page's body (core.versions): drop it, so that the page is rendered again.
    with app.app_context():
        versions.forget_bodies()
    return _statements_of(app, get)


def test_the_contract_list_takes_as_many_queries_for_20_rows_as_for_2(
    app, client, make_user, set_today
):
    set_today("2014-06-12")
    login(client, make_user("manager", None))
    for i in range(2):
        factories.contract("KZ-35" if i % 2 else "KZ-63", site_id=factories.site().id)
    few = _page_statements(app, client, "/contracts")
    for i in range(18):
        factories.contract("KZ-35" if i % 2 else "KZ-63")
    many = _page_statements(app, client, "/contracts")
    assert len(many) == len(few) > 3, (few, many)
    # Neither the page nor its export shows a contract's project or site: neither is read.
    assert not [s for s in many if "FROM projects" in s or "FROM production_sites" in s], many


def test_the_deadlines_page_takes_as_many_queries_for_30_rows_as_for_3(
    app, client, make_user, set_today
):
    set_today("2014-06-12")
    w = karaganda()
    login(client, w.manager)

    def add(n: int) -> None:
        for i in range(n):
            contract = factories.contract("KZ-35" if i % 2 else "KZ-63")
            factories.milestone(contract, due_on=date(2014, 5, 1 + i % 20))
            factories.milestone(contract, due_on=date(2014, 6, 20))

    add(2)
    few = _page_statements(app, client, "/deadlines")
    add(27)
    many = _page_statements(app, client, "/deadlines")
    assert len(many) == len(few) > 3, (few, many)


def test_a_page_with_stored_figures_reads_the_user_once(app, client, make_user, set_today):
    """The dashboard commits only when it computed the figures itself: a commit would expire
    the logged-in user, whom the layout would then read a second time."""
    from ppp_tracker.db import db
    from ppp_tracker.reports import snapshots

    set_today("2014-06-12")
    login(client, make_user("manager", None))
    snapshots.refresh(date(2014, 6, 12))
    db.session.commit()
    statements = _page_statements(app, client, "/")
    assert len([s for s in statements if "FROM users" in s]) == 1, statements


@pytest.mark.parametrize("role, region", [("viewer", None), ("officer", "KZ-35")])
def test_what_every_page_shares_is_read_in_one_round_trip(app, client, make_user, role, region):
    """The layout around a page (user and region, menu, language, stale-scan banner) costs one
    query: the logged-in user with their region, and the last completed scan the banner needs
    (core.web.WITH_USER)."""
    login(client, make_user(role, region))

    def page():
        response = client.get("/no-such-page")
        assert response.status_code == 404
        # The banner still tells the truth: no scan has completed here.
        assert "alert-warning" in response.get_data(as_text=True)

    page()
    statements = _statements_of(app, page)
    assert len(statements) == 1, statements
    assert "FROM users" in statements[0] and "scan_runs" in statements[0]


def test_an_api_call_reads_its_token_and_user_in_one_query_and_commits_no_read(
    app, client, make_user, api_token
):
    """A bearer token's user comes with the token (one query); a read commits nothing, unless
    it is the token's first use in ten minutes, which is noted (a commit would also expire the
    user, read again for the audit actor)."""
    import sqlalchemy as sa

    from ppp_tracker.db import db

    headers = api_token(make_user("officer", "KZ-35"))
    contract = factories.contract("KZ-35", number="Әл-241")
    commits: list[int] = []

    def call():
        response = client.get(f"/api/v1/contracts/{contract.id}", headers=headers)
        assert response.status_code == 200
        assert response.json["number"] == "Әл-241"

    def count_commit(conn):
        commits.append(1)

    sa.event.listen(db.engine, "commit", count_commit)
    try:
        first = _statements_of(app, call)
        noted = len(commits)
        again = _statements_of(app, call)
    finally:
        sa.event.remove(db.engine, "commit", count_commit)
    assert any(s.startswith("UPDATE api_tokens") for s in first) and noted == 1, first
    assert len(commits) == noted, again  # the second read commits nothing
    for statements in (first, again):
        tokens = [s for s in statements if "FROM api_tokens" in s]
        assert len(tokens) == 1 and "JOIN users" in tokens[0], statements
    assert not [s for s in again if "FROM users" in s], again
