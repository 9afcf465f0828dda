"""Helpers of the reports tests: spreadsheets made in memory, and the reports' part of the
access matrix's "world" (an import batch per region, the path values of reports routes)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from ppp_tracker.auth.services import create_user
from ppp_tracker.db import db


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def reports_world(region: str) -> dict:
    """Path values of the reports routes for the access matrix, with a batch in `region`."""
    from ppp_tracker.reports import imports

    uploader, _password = create_user(
        f"importer-{region.lower()}@example.kz",
        role="officer",
        region_code=region,
        name=f"Загрузчик {region}",
    )
    batch = imports.create_batch(
        uploader, "parties", "parties.csv", csv_bytes([["name", "kind"], ["ТОО «Альфа»", "tenant"]])
    )
    db.session.commit()
    return {
        "import_id": batch.id,
        "import_kind": "parties",
        "list_name": "contracts",
        "file_format": "csv",
    }
