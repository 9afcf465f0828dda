"""Calendar years (issue 13, item 9): a year counts as confirmed when the holidays package carries
its decree transfers (up to 2025) or an admin has confirmed it; the calendar page shows each
year's state and lets admins confirm (audited); `flask calendar confirm YEAR` and `flask calendar
import FILE` (all rows or none, errors by row); dates computed in an unconfirmed year say so on
the milestone and claim pages; admins see a banner while this year or the next is unconfirmed.
On PostgreSQL and SQLite, through the pages and the CLI runner.

By hand, 2026 (the package's statutory moves): Sunday 08.03.2026 is Women's Day, moved to
Monday 09.03.2026; so an obligation due 08.03.2026 is due Tuesday 10.03.2026.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ppp_tracker.auth.access import SYSTEM_USER
from ppp_tracker.claims import drafting, sending
from ppp_tracker.core.audit import AuditEvent
from ppp_tracker.core.calendar import CalendarOverride, CalendarYear
from ppp_tracker.db import db
from ppp_tracker.deadlines import years
from tests import factories
from tests.conftest import login, post_form
from tests.pages import move_today as _today
from tests.pages import text_of
from tests.pages import user as _user

NBSP = "\u00a0"
UNCONFIRMED_2026 = (
    "вычислено по календарю рабочих дней на 2026 год, который администратор ещё не подтвердил"
)


def test_years_up_to_2025_are_confirmed_by_the_package_and_later_ones_by_an_admin(any_app):
    assert years.year_state(2014).source == "package"
    assert years.year_state(2025).confirmed is True
    assert years.year_state(2026).confirmed is False
    years.confirm_year(2026, actor="test")
    db.session.commit()
    assert (years.year_state(2026).confirmed, years.year_state(2026).source) == (True, "admin")


def test_the_calendar_page_shows_the_years_and_an_admin_confirms_one(any_app):
    _today(any_app, "2026-12-07")
    admin = _user("admin", None)
    client = any_app.test_client()
    login(client, admin)
    page = text_of(client.get("/admin/calendar?year=2026"))
    assert "Календарь на 2026 год не подтверждён" in page
    assert "2025 подтверждён данными пакета holidays" in page
    assert "2026 не подтверждён Подтвердить 2026" in page
    assert "2027 не подтверждён Подтвердить 2027" in page
    # Without the page's CSRF token nothing happens.
    assert client.post("/admin/calendar/years/2026/confirm").status_code == 400
    r = post_form(
        client,
        "/admin/calendar/years/2026/confirm",
        {},
        form_url="/admin/calendar?year=2026",
        follow_redirects=True,
    )
    page = text_of(r)
    assert "Календарь на 2026 год подтверждён." in page
    assert f"2026 подтверждён {admin.email}, 07.12.2026" in page
    assert "Календарь на 2026 год не подтверждён" not in page
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "calendar_years")
    )
    assert (event.action, event.entity_id, event.actor) == ("create", "2026", admin.email)
    # Only admins.
    lawyer = _user("legal")
    other = any_app.test_client()
    login(other, lawyer)
    assert other.get("/admin/calendar").status_code == 403
    r = other.post("/admin/calendar/years/2027/confirm", data={})
    assert r.status_code in (400, 403)
    assert db.session.get(CalendarYear, 2027) is None


def test_admins_see_a_banner_while_this_year_or_the_next_is_unconfirmed(any_app):
    _today(any_app, "2026-12-07")
    admin, lawyer = _user("admin", None), _user("legal")
    client, other = any_app.test_client(), any_app.test_client()
    login(client, admin)
    login(other, lawyer)
    banner = "Календарь рабочих дней на {} не подтверждён"
    assert banner.format("2026, 2027") in text_of(client.get("/"))
    assert "Календарь рабочих дней на" not in text_of(other.get("/"))  # not for other roles
    years.confirm_year(2026, actor="test")
    db.session.commit()
    assert banner.format("2027") in text_of(client.get("/"))
    years.confirm_year(2027, actor="test")
    db.session.commit()
    assert "Календарь рабочих дней на" not in text_of(client.get("/"))
    _today(any_app, "2025-06-01")  # 2025 is the package's year, 2026 an admin's: no banner
    assert "Календарь рабочих дней на" not in text_of(client.get("/"))


def test_flask_calendar_confirm(any_app):
    runner = any_app.test_cli_runner()
    r = runner.invoke(args=["calendar", "confirm", "2026"])
    assert r.exit_code == 0 and "2026 is confirmed" in r.output
    r = runner.invoke(args=["calendar", "confirm", "2026"])
    assert r.exit_code == 0 and "2026 was already confirmed" in r.output
    r = runner.invoke(args=["calendar", "confirm", "1800"])
    assert r.exit_code != 0
    db.session.expire_all()
    assert [y.year for y in db.session.scalars(sa.select(CalendarYear))] == [2026]
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "calendar_years")
    )
    assert event.actor == "cli:calendar confirm"


def test_flask_calendar_import_takes_all_rows_or_none(any_app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,kind,reason\n"
        "2027-01-08,off,Приказ № 1 (перенос с 02.01.2027)\n"
        "31.02.2027,off,нет такого дня\n"
        "2027-01-09,holiday,не тот вид\n"
        "08.01.2027,working,повтор\n",
        encoding="utf-8",
    )
    runner = any_app.test_cli_runner()
    r = runner.invoke(args=["calendar", "import", str(bad)])
    assert r.exit_code != 0
    assert "nothing imported" in r.output
    assert "Строка 3: '31.02.2027' — не дата" in r.output
    assert "Строка 4: 'holiday' — должно быть working или off." in r.output
    assert "Строка 5: 08.01.2027 уже есть в строке 2." in r.output
    assert "Строка 2" not in r.output  # the good row is not an error
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0

    good = tmp_path / "good.csv"
    good.write_text(
        "2027-01-08;off;Приказ № 1 (перенос с субботы 02.01.2027)\n"
        "2027-01-16;working;Приказ № 1 (рабочий день вместо 08.01.2027)\n",
        encoding="utf-8",
    )
    r = runner.invoke(args=["calendar", "import", str(good)])
    assert r.exit_code == 0, r.output
    assert "imported 2 transfers (2027)" in r.output
    r = runner.invoke(args=["calendar", "show", "2027-01-08"])
    assert "day off (Приказ № 1 (перенос с субботы 02.01.2027))" in r.output
    r = runner.invoke(args=["calendar", "show", "2027-01-16"])
    assert "working day" in r.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 2


def test_dates_in_an_unconfirmed_year_say_so_on_the_milestone_and_claim_pages(any_app):
    _today(any_app, "2026-12-07")
    contract = factories.contract()
    m = factories.milestone(contract, due_on=date(2026, 3, 8))
    old = factories.milestone(contract, due_on=date(2014, 5, 1))
    lawyer = _user("legal")
    client = any_app.test_client()
    login(client, lawyer)
    page = text_of(client.get(f"/milestones/{m.id}"))
    assert "10.03.2026" in page and UNCONFIRMED_2026 in page
    assert UNCONFIRMED_2026 not in text_of(client.get(f"/milestones/{old.id}"))

    # A claim sent Monday 30.11.2026: ten working days, 01–04, 07–11 and 14.12 → 14.12.2026.
    claim = drafting.create_claim(
        SYSTEM_USER, contract, {"milestone_ids": [m.id], "as_of": date(2026, 11, 30)}
    )
    sending.approve_claim(SYSTEM_USER, claim)
    sending.send_claim(SYSTEM_USER, claim, date(2026, 11, 30), acknowledge_kazakh_gaps=True)
    db.session.commit()
    assert claim.response_due_on == date(2026, 12, 14)
    page = text_of(client.get(f"/claims/{claim.id}"))
    assert "Даты этой претензии: " + UNCONFIRMED_2026 in page

    years.confirm_year(2026, actor="test")
    db.session.commit()
    assert UNCONFIRMED_2026 not in text_of(client.get(f"/milestones/{m.id}"))
    assert "Даты этой претензии" not in text_of(client.get(f"/claims/{claim.id}"))
