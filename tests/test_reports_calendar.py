"""The per-user iCalendar feed: what a calendar app reads, revocation and renewal, the API."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from ppp_tracker.db import db
from ppp_tracker.registry.codes import MilestoneStatus
from ppp_tracker.registry.services.milestones import save_milestone
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture
def deadlines(set_today):
    set_today("2014-06-12")
    contract = factories.contract("KZ-35", number="241")
    teo = factories.milestone(
        contract, title="Представление ТЭО; этап 1, часть A", due_on=date(2014, 5, 1)
    )
    expertise = factories.milestone(contract, title="Экспертиза", due_on=date(2014, 7, 1))
    met = factories.milestone(contract, title="Аванс", due_on=date(2014, 1, 10))
    from ppp_tracker.auth.access import SYSTEM_USER

    save_milestone(
        SYSTEM_USER,
        contract,
        {"status": MilestoneStatus.MET.value, "met_on": date(2014, 1, 9)},
        met,
    )
    other = factories.contract("KZ-63", number="ВК-7")
    factories.milestone(other, title="Чужой срок", due_on=date(2014, 6, 20))
    db.session.commit()
    return {"teo": teo, "expertise": expertise, "met": met}


def _feed_url(client, headers) -> str:
    r = client.get("/api/v1/me/calendar", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["url"]


def _path(url: str) -> str:
    return urlsplit(url).path


def test_the_feed_has_one_all_day_event_per_open_milestone_in_scope(
    client, make_user, api_token, deadlines
):
    officer = make_user("officer", "KZ-35")
    url = _feed_url(client, api_token(officer))
    response = client.get(_path(url))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.data
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    cal = Calendar.from_ical(body)
    assert str(cal["VERSION"]) == "2.0" and "ppp-tracker" in str(cal["PRODID"])
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    assert len(events) == 2  # the met milestone and the other region's are not in it
    teo = next(e for s, e in events.items() if "Представление ТЭО" in s)
    # 01.05.2014 was a holiday and 02–03.05 days off: the obligation is due on 04.05.2014.
    assert teo.decoded("DTSTART") == date(2014, 5, 4)
    assert teo.decoded("DTEND") == date(2014, 5, 5)
    assert "№ 241" in str(teo["SUMMARY"])
    # Commas and semicolons are escaped in the file and come back intact.
    assert "Представление ТЭО; этап 1, часть A" in str(teo["SUMMARY"])
    unfolded = body.replace(b"\r\n ", b"").decode()
    assert "ТЭО\\; этап 1\\, часть A" in unfolded
    assert str(teo["UID"]) == f"milestone-{deadlines['teo'].id}@localhost"


def test_uids_stay_the_same_from_one_reading_to_the_next_and_across_renewal(
    client, make_user, api_token, deadlines
):
    headers = api_token(make_user("officer", "KZ-35"))
    first = Calendar.from_ical(client.get(_path(_feed_url(client, headers))).data)
    renewed = client.post("/api/v1/me/calendar/renew", headers=headers).get_json()["url"]
    second = Calendar.from_ical(client.get(_path(renewed)).data)
    assert sorted(str(e["UID"]) for e in first.walk("VEVENT")) == sorted(
        str(e["UID"]) for e in second.walk("VEVENT")
    )


def test_renewing_revokes_the_old_address(client, make_user, api_token, deadlines):
    headers = api_token(make_user("officer", "KZ-35"))
    old = _feed_url(client, headers)
    assert _feed_url(client, headers) == old  # asking again gives the same address
    r = client.post("/api/v1/me/calendar/renew", headers=headers)
    assert r.status_code == 200
    new = r.get_json()["url"]
    assert new != old
    assert client.get(_path(old)).status_code == 404
    assert client.get(_path(new)).status_code == 200


def test_switching_the_feed_off_and_on_again(client, make_user, api_token, deadlines):
    headers = api_token(make_user("officer", "KZ-35"))
    url = _feed_url(client, headers)
    assert client.delete("/api/v1/me/calendar", headers=headers).status_code == 204
    assert client.get(_path(url)).status_code == 404
    assert client.get("/api/v1/me/calendar", headers=headers).get_json() == {
        "url": None,
        "active": False,
    }
    again = client.post("/api/v1/me/calendar/renew", headers=headers).get_json()["url"]
    assert again != url and client.get(_path(again)).status_code == 200


def test_a_wrong_or_forged_token_finds_nothing(client, make_user, api_token, deadlines):
    url = _feed_url(client, api_token(make_user("officer", "KZ-35")))
    feed_id = _path(url).split("/")[-1].split(".")[0]
    for path in (
        f"/calendar/{feed_id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        f"/calendar/{feed_id}.ics",
        "/calendar/nonsense.ics",
    ):
        assert client.get(path).status_code == 404, path


def test_a_deactivated_users_feed_stops_working(client, make_user, api_token, deadlines):
    officer = make_user("officer", "KZ-35")
    url = _feed_url(client, api_token(officer))
    officer.active = False
    db.session.commit()
    assert client.get(_path(url)).status_code == 404


def test_the_profile_card_gives_renews_and_switches_off_the_address(client, make_user, deadlines):
    login(client, make_user("viewer", "KZ-35"))
    page = client.get("/profile").get_data(as_text=True)
    assert 'id="calendar-create"' in page
    r = post_form(client, "/profile/calendar/renew", {}, form_url="/profile")
    assert r.status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    url = page.split('id="calendar-url"', 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert client.get(_path(url)).status_code == 200
    r = post_form(client, "/profile/calendar/revoke", {}, form_url="/profile")
    assert r.status_code == 302
    assert client.get(_path(url)).status_code == 404
    assert 'id="calendar-url"' not in client.get("/profile").get_data(as_text=True)


def test_the_feed_speaks_the_users_language(client, make_user, api_token, deadlines):
    officer = make_user("officer", "KZ-35")
    officer.locale = "kk"
    db.session.commit()
    cal = Calendar.from_ical(client.get(_path(_feed_url(client, api_token(officer)))).data)
    assert str(cal["X-WR-CALNAME"]) == "ppp-tracker: мерзімдер"
    overdue = [str(e["SUMMARY"]) for e in cal.walk("VEVENT") if "ТЭО" in str(e["SUMMARY"])]
    assert overdue[0].startswith("МЕРЗІМІ ӨТКЕН")
