"""Imports from XLSX and CSV: refused files, bad rows with their numbers, all-or-nothing, and the
whole way through a real Celery worker with the progress the page polls."""

from __future__ import annotations

import io
import re
import time
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone, Party, ProductionSite
from ppp_tracker.reports import imports, tasks
from ppp_tracker.reports.models import ImportBatch, ImportStatus
from tests import factories
from tests.alerting import wait_for
from tests.conftest import csrf_token, login
from tests.reports_support import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.usefixtures("app")


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _refused(user, kind: str, filename: str, content: bytes) -> str:
    with pytest.raises(Invalid) as exc:
        imports.create_batch(user, kind, filename, content)
    db.session.rollback()
    return " ".join(exc.value.errors["file"])


# --- files that cannot be imported at all ----------------------------------------------------


def test_files_that_are_not_spreadsheets_are_refused_with_a_reason(make_user):
    officer = make_user("officer", "KZ-35")
    assert "не книга Excel" in _refused(officer, "parties", "a.xlsx", b"name,kind\n")
    assert "книгу Excel (.xlsx) или файл CSV" in _refused(officer, "parties", "a.pdf", b"%PDF-1")
    assert ".xls" in _refused(officer, "parties", "old.xls", b"\xd0\xcf\x11\xe0rest")
    broken = b"PK\x03\x04" + b"\x00" * 200
    assert "не удаётся прочитать" in _refused(officer, "parties", "broken.xlsx", broken)
    assert "Файл пуст" in _refused(officer, "parties", "a.csv", b"")
    assert _count(ImportBatch) == 0


def test_a_csv_in_windows_1251_is_refused_and_the_way_out_is_said(make_user):
    officer = make_user("officer", "KZ-35")
    content = csv_bytes([["name", "kind"], ["ТОО «Альфа»", "tenant"]], encoding="cp1251")
    message = _refused(officer, "parties", "parties.csv", content)
    assert "UTF-8" in message and "CSV UTF-8" in message


def test_wrong_columns_are_named(make_user):
    officer = make_user("officer", "KZ-35")
    message = _refused(
        officer, "parties", "p.csv", csv_bytes([["name", "colour", "name"], ["A", "red", "B"]])
    )
    assert "colour" in message  # unknown
    assert "указаны дважды" in message
    assert "нет обязательных столбцов: Вид" in message


def test_too_large_files_and_header_only_files_are_refused(app, make_user):
    officer = make_user("officer", "KZ-35")
    app.config["IMPORT_MAX_BYTES"] = 1024 * 1024
    big = csv_bytes(
        [["name", "kind"]] + [[f"ТОО «Компания» {i:06d}", "tenant"] for i in range(40_000)]
    )
    assert len(big) > 1024 * 1024
    assert "Файл больше 1 МБ" in _refused(officer, "parties", "big.csv", big)
    header_only = csv_bytes([["name", "kind"]])
    assert "нет строк с данными" in _refused(officer, "parties", "h.csv", header_only)


# --- rows: checked by the registry's own rules, named by their row number ----------------------


def _check(batch: ImportBatch) -> ImportBatch:
    """What the check task does, run here without a worker."""
    assert tasks.check_import.run(batch.id) == "checked"
    db.session.expire_all()
    return db.session.get(ImportBatch, batch.id)


def _commit(batch: ImportBatch) -> str:
    imports.request_commit(batch)
    db.session.commit()
    result = tasks.commit_import.run(batch.id)
    db.session.expire_all()
    return result


def test_every_bad_row_is_named_with_its_number_and_reason_and_nothing_is_saved(make_user):
    officer = make_user("officer", "KZ-35")
    rows = [
        ["Наименование", "Вид", "БИН / ИИН", "E-mail"],  # Russian headers are understood
        ["ТОО «Альфа»", "Арендатор", "", "alfa@example.kz"],
        ["ТОО «Бета»", "tenant", "123456789012", ""],  # control digit wrong
        ["", "tenant", "", ""],  # no name
        ["ТОО «Гамма»", "пришелец", "", ""],  # unknown kind
        ["ТОО «Дельта»", "tenant", "", "not-an-email"],  # the registry's e-mail rule
    ]
    batch = imports.create_batch(officer, "parties", "parties.xlsx", xlsx_bytes(rows))
    db.session.commit()
    batch = _check(batch)
    assert batch.status == ImportStatus.CHECKED
    found = {(e["row"], e["column"]) for e in batch.errors}
    assert found == {(3, "bin"), (4, "name"), (5, "kind"), (6, "email")}
    assert _count(Party) == 0
    with pytest.raises(Invalid):
        imports.request_commit(batch)


def test_the_same_bin_twice_in_one_file_is_caught(make_user):
    officer = make_user("officer", "KZ-35")
    bin_ = factories.valid_bin(901)
    rows = [["name", "kind", "bin"], ["А", "tenant", bin_], ["Б", "tenant", bin_]]
    batch = _check(imports.create_batch(officer, "parties", "p.csv", csv_bytes(rows)))
    assert [(e["row"], e["column"]) for e in batch.errors] == [(3, "bin")]
    assert "строке 2" in batch.errors[0]["message"]


def test_a_good_file_is_checked_then_imported_at_once(make_user):
    officer = make_user("officer", "KZ-35")
    rows = [["name", "kind", "bin", "region"]] + [
        [f"ТОО «Компания {i}»", "tenant", factories.valid_bin(700 + i), "KZ-35"] for i in range(5)
    ]
    batch = _check(
        imports.create_batch(officer, "parties", "p.csv", csv_bytes(rows, delimiter=";"))
    )
    assert batch.errors == [] and batch.created_count == 5
    assert _count(Party) == 0  # the check saves nothing
    assert _commit(batch) == "imported"
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.status == ImportStatus.DONE and batch.created_count == 5
    assert _count(Party) == 5
    # Imported by the worker on behalf of the uploader: the audit log says so.
    actors = db.session.scalars(
        sa.text("SELECT DISTINCT actor FROM audit_events WHERE entity_type = 'parties'")
    ).all()
    assert actors == [f"worker:import#{batch.id} ({officer.email})"]


def test_contracts_with_milestones_are_grouped_by_contract(make_user, set_today):
    set_today("2014-06-12")
    officer = make_user("officer", "KZ-35")
    customer = factories.party(kind="government", bin=None, name="ДУИС по Карагандинской области")
    contractor = factories.party(name="АО «РЦГЧП»")
    project = factories.project("KZ-35", title="ИУ на 1500 мест")
    site = factories.site("KZ-35", name="Швейный цех")
    header = [
        "number", "signed_on", "customer", "contractor", "project", "site", "subject",
        "total_amount", "penalty_rate", "penalty_cap", "milestone_title", "milestone_type",
        "milestone_due_on", "milestone_value",
    ]  # fmt: skip
    common = [customer.name, contractor.bin]
    rows = [
        header,
        ["241", "21.11.2013", *common, "ИУ на 1500 мест", "", "Разработка ТЭО", "77 000 000,00",
         "0,1", "", "Представление ТЭО", "delivery", "01.05.2014", "77000000"],
        ["241", "", "", "", "", "", "", "", "", "", "Экспертиза", "approval", "2014-07-01", ""],
        ["А-7", date(2014, 1, 10), *common, "", str(site.id), "Аренда", 1200000.5, "", "10",
         "Оплата за 1 кв.", "payment", date(2014, 4, 10), ""],
    ]  # fmt: skip
    batch = _check(imports.create_batch(officer, "contracts", "c.xlsx", xlsx_bytes(rows)))
    assert batch.errors == [], batch.errors
    assert _commit(batch) == "imported"
    contracts = {c.number: c for c in db.session.scalars(sa.select(Contract))}
    assert set(contracts) == {"241", "А-7"}
    teo = contracts["241"]
    assert teo.project_id == project.id and teo.total_amount == Decimal("77000000.00")
    assert sorted(m.title for m in teo.milestones) == ["Представление ТЭО", "Экспертиза"]
    lease = contracts["А-7"]
    assert lease.site_id == site.id and lease.total_amount == Decimal("1200000.50")
    assert lease.penalty_cap_percent == Decimal("10")
    assert _count(Milestone) == 3


def test_one_bad_milestone_row_keeps_the_whole_file_out(make_user, set_today):
    set_today("2014-06-12")
    officer = make_user("officer", "KZ-35")
    customer = factories.party(kind="government", bin=None, name="ДУИС")
    contractor = factories.party()
    factories.project("KZ-35", title="Проект")
    header = ["number", "signed_on", "customer", "contractor", "project", "subject",
              "total_amount", "milestone_title", "milestone_type", "milestone_due_on"]  # fmt: skip
    rows = [header]
    for i in range(30):
        rows.append([f"Д-{i}", "01.02.2014", "ДУИС", contractor.bin, "Проект", "Поставка",
                     "1000", "Поставка", "delivery", "01.03.2014"])  # fmt: skip
    rows.append(["Д-99", "01.02.2014", "ДУИС", contractor.bin, "Проект", "Поставка", "1000",
                 "Поставка", "delivery", "31.02.2014"])  # fmt: skip
    rows.append(["Д-100", "01.02.2030", "ДУИС", "000000000000", "Нет такого", "X", "-5", "", "",
                 ""])  # fmt: skip
    batch = _check(imports.create_batch(officer, "contracts", "c.csv", csv_bytes(rows)))
    found = {(e["row"], e["column"]) for e in batch.errors}
    assert (32, "milestone_due_on") in found  # 31 February
    assert {(33, "contractor"), (33, "project"), (33, "total_amount")} <= found
    assert (33, "signed_on") in found or (33, "contractor") in found
    assert _count(Contract) == 0 and customer.id


def test_a_region_officer_cannot_import_into_another_region(make_user):
    officer = make_user("officer", "KZ-35")
    other = factories.institution("KZ-63", name="ИК-2 (Усть-Каменогорск)")
    rows = [["name", "arrangement", "institution"], ["Цех", "lease", other.name]]
    batch = _check(imports.create_batch(officer, "sites", "s.csv", csv_bytes(rows)))
    assert [(e["row"], e["column"]) for e in batch.errors] == [(2, "institution")]
    assert _count(ProductionSite) == 0


def test_a_task_delivered_twice_does_the_work_once(make_user):
    officer = make_user("officer", "KZ-35")
    rows = [["name", "kind"], ["ТОО «Один»", "tenant"]]
    batch = _check(imports.create_batch(officer, "parties", "p.csv", csv_bytes(rows)))
    assert tasks.check_import.run(batch.id) == "not leased"
    assert _commit(batch) == "imported"
    assert tasks.commit_import.run(batch.id) == "not leased"
    assert _count(Party) == 1
    db.session.refresh(batch)
    with pytest.raises(Invalid):  # a second confirmation finds nothing to confirm
        imports.request_commit(batch)


# --- through the pages and a real worker -------------------------------------------------------


def _wait(batch_id: int, statuses: set, seconds: float = 60) -> ImportBatch:
    def reached():
        batch = db.session.get(ImportBatch, batch_id)
        return batch if batch.status in statuses else None

    return wait_for(reached, timeout=seconds, interval=0.2, message=f"batch {batch_id} {statuses}")


@pytest.mark.worker
def test_a_large_file_goes_through_the_worker_with_progress_and_is_imported(
    app, client, make_user, celery_worker
):
    officer = make_user("officer", "KZ-35")
    institution = factories.institution("KZ-35", name="ЕЦ-166/1")
    operator = factories.party(name="ТОО «Оператор»")
    rows = [
        ["Наименование", "Форма передачи", "Учреждение", "Оператор", "Трудоустроено осуждённых"]
    ]
    rows += [
        [f"Участок {i:04d}", "Аренда", institution.name, operator.bin, i % 7] for i in range(600)
    ]
    login(client, officer)
    token = csrf_token(client, "/imports")
    r = client.post(
        "/imports",
        data={
            "csrf_token": token,
            "kind": "sites",
            "file": (io.BytesIO(xlsx_bytes(rows)), "sites.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    batch_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert 'id="import-progress"' in page and "600" in page
    # While the worker goes through the rows, the polled fragment shows how far it is.
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fragment = client.get(f"/imports/{batch_id}/progress", headers={"HX-Request": "true"})
        status = re.search(r'data-status="(\w+)"', fragment.get_data(as_text=True)).group(1)
        seen.add(status)
        if status == "checked":
            assert fragment.headers.get("HX-Refresh") == "true"
            break
        time.sleep(0.05)
    assert "checked" in seen
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert 'id="confirm-import"' in page and "Участок 0000" in page
    assert _count(ProductionSite) == 0
    token = csrf_token(client, f"/imports/{batch_id}")
    r = client.post(f"/imports/{batch_id}/commit", data={"csrf_token": token})
    assert r.status_code == 302
    batch = _wait(batch_id, {ImportStatus.DONE, ImportStatus.FAILED})
    assert batch.status == ImportStatus.DONE and batch.processed_rows == 600
    assert _count(ProductionSite) == 600
    employed = db.session.scalar(sa.select(sa.func.sum(ProductionSite.employed)))
    assert employed == sum(i % 7 for i in range(600))
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "600" in page and 'id="import-outcome"' in page


@pytest.mark.worker
def test_bad_rows_come_back_from_the_worker_on_the_page(app, client, make_user, celery_worker):
    officer = make_user("officer", "KZ-35")
    login(client, officer)
    rows = [
        ["name", "kind", "bin"],
        ["ТОО «Верно»", "tenant", ""],
        ["ТОО «Неверный вид»", "?", ""],
        ["ТОО «Неверный БИН»", "tenant", "1"],
    ]
    token = csrf_token(client, "/imports")
    r = client.post(
        "/imports",
        data={
            "csrf_token": token,
            "kind": "parties",
            "file": (io.BytesIO(csv_bytes(rows)), "p.csv"),
        },
        content_type="multipart/form-data",
    )
    batch_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    _wait(batch_id, {ImportStatus.CHECKED})
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    errors = page.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    # the cell as the spreadsheet names it: "kind" is the file's second column (B), row 3
    assert re.search(r'data-row="3"><td>3</td><td class="import-cell">B3</td><td>Вид</td>', errors)
    assert re.search(
        r'data-row="4"><td>4</td><td class="import-cell">C4</td><td>БИН / ИИН</td>'
        r"<td>БИН/ИИН состоит ровно из 12 цифр",
        errors,
    )
    assert 'id="confirm-import"' not in page
    assert _count(Party) == 0


def test_the_upload_form_shows_a_refused_file_next_to_the_field(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    token = csrf_token(client, "/imports")
    r = client.post(
        "/imports",
        data={"csrf_token": token, "kind": "parties", "file": (io.BytesIO(b"hello"), "a.docx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field-error="file"' in html and ".xlsx" in html
    assert _count(ImportBatch) == 0


def test_the_template_lists_the_columns_in_the_users_language(client, make_user):
    from openpyxl import load_workbook

    login(client, make_user("officer", "KZ-35"))
    r = client.get("/imports/template/contracts.xlsx")
    workbook = load_workbook(io.BytesIO(r.data))
    header = [c.value for c in workbook.worksheets[0][1]]
    assert header[:2] == ["Номер договора", "Дата заключения"]
    # the values a column takes are written as the user reads them, not as codes
    notes = {row[0]: row[3] for row in workbook.worksheets[1].iter_rows(values_only=True)}
    assert "Действует" in notes["Статус"] and "active" not in notes["Статус"]
    assert "Поставка (исполнение)" in notes["Тип обязательства"]
    assert "delivery" not in notes["Тип обязательства"]
    assert client.get("/imports/template/users.xlsx").status_code == 404


def test_progress_is_visible_to_the_polling_page_while_the_rows_are_processed(make_user):
    officer = make_user("officer", "KZ-35")
    rows = [["name", "kind"]] + [[f"ТОО «Номер {i}»", "tenant"] for i in range(50)]
    batch = imports.create_batch(officer, "parties", "p.csv", csv_bytes(rows))
    db.session.commit()
    assert imports.lease(batch.id, ImportStatus.QUEUED, ImportStatus.VALIDATING)
    db.session.commit()
    write = tasks._progress_writer(batch.id, batch.total_rows)
    seen = []

    def progress(done: int) -> None:
        write(done)
        # What another process (the page's poll) reads while this transaction is still open.
        with db.engine.connect() as conn:
            seen.append(
                conn.execute(
                    sa.text("SELECT processed_rows FROM import_batches WHERE id = :id"),
                    {"id": batch.id},
                ).scalar()
            )

    outcome = imports.process(batch, progress)
    db.session.rollback()
    assert outcome.errors == [] and outcome.created == 50
    assert seen[0] == 1 and seen[-1] == 50


def test_the_progress_fragment_shows_how_far_the_worker_is(client, make_user):
    officer = make_user("officer", "KZ-35")
    rows = [["name", "kind"]] + [[f"ТОО «Номер {i}»", "tenant"] for i in range(600)]
    batch = imports.create_batch(officer, "parties", "p.csv", csv_bytes(rows))
    batch.status = ImportStatus.VALIDATING
    batch.processed_rows = 300
    db.session.commit()
    login(client, officer)
    fragment = client.get(f"/imports/{batch.id}/progress", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "300 из 600 строк" in html and 'aria-valuenow="50"' in html
    assert 'hx-trigger="every 1s"' in html and "HX-Refresh" not in fragment.headers


def test_imports_work_on_the_embedded_sqlite_default_too(any_app):
    from ppp_tracker.auth.services import create_user

    officer, _password = create_user(
        "sqlite-officer@example.kz", role="officer", region_code="KZ-35"
    )
    db.session.commit()
    rows = [["name", "kind"], ["ТОО «Встроенная»", "tenant"], ["ТОО «База»", "trustee"]]
    batch = imports.create_batch(officer, "parties", "p.csv", csv_bytes(rows))
    db.session.commit()
    assert tasks.check_import.run(batch.id) == "checked"
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.errors == [] and batch.processed_rows == 2
    assert _commit(batch) == "imported"
    assert _count(Party) == 2
