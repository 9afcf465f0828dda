"""In a real browser: a lawyer finds the workers' draft in the queue, reads the letter in both
languages, approves it, sends it with a date, and downloads the PDF that went out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ppp_tracker.claims import scanning
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_lawyer_approves_and_sends_the_workers_draft(
    app, live_server, page, make_user, set_today, tmp_path
):
    set_today("2014-06-12")
    contract = factories.contract(number="241", total_amount=Decimal("77000000.00"))
    factories.milestone(
        contract, title="Разработка ТЭО", title_kk="ТЭН әзірлеу", due_on=date(2014, 5, 1)
    )
    with acting_as(Actor("worker:claims.scan")):
        [claim_id] = scanning.scan(date(2014, 6, 12)).drafted
        db.session.commit()
    lawyer = make_user("legal", "KZ-35")

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", lawyer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.click("nav >> text=Претензии")
    row = page.locator("#claims-table tr", has_text="ТОО")
    assert "3 003 000,00" in row.inner_text().replace("\xa0", " ")
    row.locator("a").first.click()
    page.wait_for_url(f"**/claims/{claim_id}")

    preview = page.locator("#preview-ru")
    assert "ПРЕТЕНЗИЯ" in preview.inner_text()
    page.click("text=Письмо на казахском")
    assert "КІНӘРАТ-ТАЛАП" in page.locator("#preview-kk").inner_text()

    page.click("#approve-button")
    page.wait_for_selector("text=Претензия согласована.")
    page.fill("#send-form input[name=sent_on]", "2014-06-12")
    page.on("dialog", lambda dialog: dialog.accept())  # "Send the letter? …"
    page.click("#send-form button[type=submit]")
    page.wait_for_selector("text=Отправлено: исх. № 14-28-9-1 от 12.06.2014")
    assert page.locator("#outgoing-number").inner_text() == "14-28-9-1"
    assert page.locator("#response-due").inner_text().startswith("26.06.2014")

    with page.expect_download() as download:
        page.click("text=PDF · RU")
    saved = tmp_path / "letter.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes()[:4] == b"%PDF"
    assert download.value.suggested_filename == "14-28-9-1.ru.pdf"
