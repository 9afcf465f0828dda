"""Hostile document uploads through the web form: disguised, empty, oversized files and file names
with folders, NUL bytes, direction overrides or 300 characters — refused with a message or
stored under a safe name, never a 500. The API takes no uploads (checked on its document)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from ppp_tracker.db import db
from ppp_tracker.registry.models import Document
from tests import factories
from tests.conftest import csrf_token, login

pytestmark = pytest.mark.usefixtures("app")

PDF = b"%PDF-1.4\n% a tiny pdf\n"


def _upload(client, contract, filename: str, content: bytes, **extra):
    token = csrf_token(client, f"/contracts/{contract.id}")
    return client.post(
        f"/contracts/{contract.id}/documents",
        data={
            "csrf_token": token,
            "document_type": "other",
            "title": "",
            "file": (io.BytesIO(content), filename),
            **extra,
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _documents() -> list[Document]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Document).order_by(Document.id)).all()


@pytest.fixture
def contract_page(client, make_user):
    login(client, make_user("officer", "KZ-35"))
    return factories.contract("KZ-35")


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("invoice.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, "не соответствует его расширению .pdf"),
        ("table.xlsx", b"name;amount\nA;1\n", "не соответствует его расширению .xlsx"),
        ("empty.pdf", b"", "Файл пуст"),
        ("setup.exe", b"MZ\x90\x00", "не принимаются"),
        ("../../etc/passwd", b"root:x:0:0\n", "не принимаются"),
        ("notes.txt", "по-русски".encode("cp1251"), "не соответствует его расширению .txt"),
    ],
)
def test_disguised_empty_and_forbidden_files_are_refused_with_a_message(
    client, contract_page, filename, content, message
):
    response = _upload(client, contract_page, filename, content)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _documents() == []


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("tab\tand\x07bell.pdf", "tabandbell.pdf"),
        ("\u202efdp.exe.pdf", "fdp.exe.pdf"),  # the override would show "fdp.exe" reversed
        ("Қ" * 300 + ".pdf", "Қ" * 251 + ".pdf"),
    ],
)
def test_file_names_are_stored_and_sent_back_safe(client, contract_page, filename, stored):
    response = _upload(client, contract_page, filename, PDF)
    assert response.status_code == 200
    assert "Документ прикреплён" in response.get_data(as_text=True)
    [document] = _documents()
    assert document.filename == stored and len(document.filename) <= 255
    download = client.get(f"/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition and "\r" not in disposition and "\u202e" not in disposition


def test_a_document_over_its_limit_is_refused_with_the_limit(app, client, contract_page):
    app.config["DOCUMENT_MAX_BYTES"] = 1024 * 1024
    try:
        response = _upload(client, contract_page, "big.pdf", PDF + b"0" * (1024 * 1024))
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = 20 * 1024 * 1024
    assert "Размер файла превышает 1 МБ" in response.get_data(as_text=True)
    assert _documents() == []


def test_a_request_over_the_upload_limit_is_a_page_with_the_limit(app, client, contract_page):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        response = _upload(client, contract_page, "huge.pdf", PDF + b"0" * (2 * 1024 * 1024))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert '<html lang="ru">' in html and "не более 1 МБ" in html
    assert _documents() == []


def test_the_api_takes_no_file_uploads(client):
    """If an upload is ever added to the API, it needs the checks above: this test will say so."""
    spec = client.get("/api/v1/openapi.json").get_json()
    media = {
        media_type
        for path in spec["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict)
        for media_type in operation.get("requestBody", {}).get("content", {})
    }
    assert media == {"application/json"}
