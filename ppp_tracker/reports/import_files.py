"""Reading an uploaded import file: its columns, its format (XLSX or CSV, refused before it is
read when it is not what it claims, too large, or a "zip bomb"), its header and its rows as text.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ppp_tracker.core import limits
from ppp_tracker.core.enums import LabelledEnum
from ppp_tracker.core.folding import fold
from ppp_tracker.registry.codes import (
    Arrangement,
    ContractStatus,
    MilestoneType,
    Obligor,
    PartyKind,
    PenaltyBase,
    SiteStatus,
)
from ppp_tracker.reports.models import ImportKind

#: More data rows than this are refused (split the file).
MAX_ROWS = 20_000
#: Rows kept for the preview table.
PREVIEW_ROWS = 30
#: Longest text accepted in one cell (the longest registry field is 20,000).
MAX_CELL = limits.TEXT
#: A workbook that unpacks to more than this is refused before it is read (a "zip bomb" of a few
#: kilobytes can unpack to gigabytes); a full 20,000-row sheet unpacks to a few dozen MB.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: The start of an OLE2 compound file: an old .xls, or an .xlsx encrypted with a password.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"


class FileRefused(Exception):
    """The file cannot be read as an import of this kind; nothing was stored."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImportColumn:
    key: str
    label: Any
    #: text, date, money, int, decimal, percent, bool, enum, party, email
    kind: str = "text"
    required: bool = False
    enum: type[LabelledEnum] | None = None
    hint: Any = None


PARTY_COLUMNS = [
    ImportColumn("name", _l("Name"), required=True),
    ImportColumn("kind", _l("Kind"), "enum", True, PartyKind),
    ImportColumn("bin", _l("BIN / IIN"), hint=_l("12 digits")),
    ImportColumn("email", _l("E-mail")),
    ImportColumn("phone", _l("Phone")),
    ImportColumn("address", _l("Address")),
    ImportColumn("head_position", _l("Position of the head")),
    ImportColumn("head_name", _l("Name of the head")),
    ImportColumn("region", _l("Region"), hint=_l("region code, e.g. KZ-35")),
]
SITE_COLUMNS = [
    ImportColumn("name", _l("Name"), required=True),
    ImportColumn("arrangement", _l("Arrangement"), "enum", True, Arrangement),
    ImportColumn("status", _l("Status"), "enum", False, SiteStatus),
    ImportColumn(
        "institution", _l("Institution"), required=True, hint=_l("its exact name or its id")
    ),
    ImportColumn("operator", _l("Operator"), "party", hint=_l("BIN or exact name")),
    ImportColumn("activity", _l("Activity")),
    ImportColumn("area_m2", _l("Area, m²"), "decimal"),
    ImportColumn("employed", _l("Convicts employed"), "int"),
]
CONTRACT_COLUMNS = [
    ImportColumn("number", _l("Contract number"), required=True),
    ImportColumn("signed_on", _l("Signed on"), "date", True, hint=_l("DD.MM.YYYY")),
    ImportColumn("customer", _l("Customer"), "party", True, hint=_l("BIN or exact name")),
    ImportColumn("contractor", _l("Contractor"), "party", True, hint=_l("BIN or exact name")),
    ImportColumn("project", _l("Project"), hint=_l("exact title or id; or give a site")),
    ImportColumn("site", _l("Production site"), hint=_l("exact name or id; or give a project")),
    ImportColumn("subject", _l("Subject"), required=True),
    ImportColumn("total_amount", _l("Amount"), "money", True),
    ImportColumn("starts_on", _l("Starts on"), "date"),
    ImportColumn("ends_on", _l("Ends on"), "date"),
    ImportColumn("status", _l("Status"), "enum", False, ContractStatus),
    ImportColumn("penalty_rate", _l("Penalty, % per day"), "percent"),
    ImportColumn("penalty_base", _l("Penalty base"), "enum", False, PenaltyBase),
    ImportColumn("penalty_cap", _l("Penalty cap, %"), "percent"),
    ImportColumn("response_days", _l("Days to answer a claim"), "int"),
    ImportColumn("response_working", _l("Working days"), "bool", hint=_l("yes or no")),
    ImportColumn("officer", _l("Officer"), "email", hint=_l("e-mail of a user")),
    ImportColumn("milestone_title", _l("Milestone")),
    ImportColumn("milestone_type", _l("Milestone type"), "enum", False, MilestoneType),
    ImportColumn("milestone_due_on", _l("Due on"), "date"),
    ImportColumn("milestone_value", _l("Milestone value"), "money"),
    ImportColumn("milestone_obligor", _l("Obligor"), "enum", False, Obligor),
    ImportColumn("milestone_responsible", _l("Responsible"), "email"),
    ImportColumn("milestone_met_on", _l("Met on"), "date"),
]
COLUMNS: dict[ImportKind, list[ImportColumn]] = {
    ImportKind.PARTIES: PARTY_COLUMNS,
    ImportKind.SITES: SITE_COLUMNS,
    ImportKind.CONTRACTS: CONTRACT_COLUMNS,
}
#: Columns of a contract (repeated or left empty on its further milestone rows).
CONTRACT_FIELDS = [c.key for c in CONTRACT_COLUMNS if not c.key.startswith("milestone_")]
MILESTONE_FIELDS = [c.key for c in CONTRACT_COLUMNS if c.key.startswith("milestone_")]


# --- reading files ---------------------------------------------------------------------------


def max_bytes() -> int:
    return int(current_app.config["IMPORT_MAX_BYTES"])


def file_format_of(filename: str, content: bytes) -> str:
    """ "xlsx" or "csv" from the name and the bytes; refuses anything else."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        if content.startswith(OLE_MAGIC):
            # Excel keeps a workbook with a password to open inside such a container.
            raise FileRefused(
                _(
                    "The workbook is protected with a password (or is an old .xls). Remove the "
                    "password, save it as .xlsx and upload it again."
                )
            )
        if not content.startswith(b"PK\x03\x04"):
            raise FileRefused(_("This is not an Excel workbook (.xlsx), although it is named so."))
        _check_unpacked_size(content)
        _check_xml_parts(content)
        return "xlsx"
    if name.endswith(".csv") or name.endswith(".txt"):
        if content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")):
            raise FileRefused(_("This is not a CSV text file, although it is named so."))
        return "csv"
    if name.endswith(".xls"):
        raise FileRefused(
            _("Old Excel files (.xls) cannot be read. Save the file as .xlsx and upload it again.")
        )
    raise FileRefused(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))


def _check_unpacked_size(content: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than MAX_UNPACKED_BYTES. Python's zipfile
    never unpacks more than the sizes the archive declares, so the declared sizes are a bound."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # damaged: the reader says so with its reason
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileRefused(
            _(
                "The workbook unpacks to more than %(mb)d MB, far more than a table of the "
                "registry; it cannot be imported. Save only the table as a new .xlsx.",
                mb=MAX_UNPACKED_BYTES // (1024 * 1024),
            )
        )


#: What opens an XML part that Excel writes: UTF-8 (perhaps with its byte order mark), `<` first.
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<")
#: Markup that declares a document type or entities. Excel never writes it; an XML parser that
#: honours it expands entities (a "billion laughs") or reads other files and URLs.
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_CHUNK = 1024 * 1024


def _check_xml_parts(content: bytes) -> None:
    """Refuse a workbook with an XML part that is not plain UTF-8 XML or that carries a DTD,
    before any XML parser sees it (called after _check_unpacked_size: the parts are bounded)."""
    refused = FileRefused(
        _(
            "The workbook contains a document type declaration (DTD) or XML that Excel does not "
            "write; it is not imported. Save it again in Excel as .xlsx."
        )
    )
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for info in archive.infolist():
                if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    continue
                with archive.open(info) as part:
                    tail = b""
                    first = True
                    while chunk := part.read(_CHUNK):
                        if first and not _XML_START.match(chunk):
                            raise refused
                        first = False
                        window = tail + chunk
                        if any(mark in window for mark in _DTD_MARKS):
                            raise refused
                        tail = window[-16:]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return  # damaged: the reader says so with its reason


def _cell_text(value) -> str:
    if value is None:
        return ""
    if type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
        return "=" + str(getattr(value, "text", "") or "")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel keeps numbers as binary floats; their shortest form is what was typed.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value).strip()


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        # Formulas as written (not the values Excel cached, which may be stale or missing),
        # so that read_file can refuse them.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRefused(
            _(
                "The workbook cannot be read (%(reason)s). Save it again in Excel as .xlsx.",
                reason=type(exc).__name__,
            )
        ) from exc
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise FileRefused(
            _(
                "The workbook cannot be read (%(reason)s). Save it again in Excel as .xlsx.",
                reason=type(exc).__name__,
            )
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        # A read-only sheet is parsed while it is read: its damage shows here, not on loading.
        for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, list(row)
    except Exception as exc:
        raise FileRefused(
            _(
                "The workbook cannot be read (%(reason)s). Save it again in Excel as .xlsx.",
                reason=type(exc).__name__,
            )
        ) from exc
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            _(
                "The file is not in UTF-8 (byte %(pos)d). In Excel choose “Save as” → "
                "“CSV UTF-8 (comma delimited)”, or upload the .xlsx workbook.",
                pos=exc.start + 1,
            )
        ) from exc
    if "\x00" in text:
        raise FileRefused(_("The file contains binary data; it is not a CSV text file."))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise FileRefused(
            _(
                "The CSV file is malformed near line %(n)d: %(reason)s",
                n=reader.line_num,
                reason=str(exc),
            )
        ) from exc


def read_rows(content: bytes, file_format: str) -> Iterator[tuple[int, list[str]]]:
    """(row number as the spreadsheet shows it, cell texts) for every row that is not empty."""
    rows = _xlsx_rows(content) if file_format == "xlsx" else _csv_rows(content)
    for number, cells in rows:
        texts = [_cell_text(c) for c in cells]
        if any(texts):
            yield number, texts


def as_written(text: str) -> str:
    """A header or a label as the file may write it: any case, ё = е, a required column's *."""
    return fold(str(text).strip().strip("*"))


def header_names(kind: ImportKind) -> dict[str, str]:
    """Accepted header texts → column key: the key itself and its label in every language."""
    names: dict[str, str] = {}
    for column in COLUMNS[kind]:
        names[as_written(column.key)] = column.key
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                names.setdefault(as_written(str(column.label)), column.key)
    return names


def map_header(kind: ImportKind, header: list[str]) -> dict[int, str]:
    """Column positions → keys; refuses unknown, repeated and missing required columns."""
    names = header_names(kind)
    mapping: dict[int, str] = {}
    unknown, repeated = [], []
    for index, text in enumerate(header):
        if not as_written(text):
            continue
        key = names.get(as_written(text))
        if key is None:
            unknown.append(text)
        elif key in mapping.values():
            repeated.append(text)
        else:
            mapping[index] = key
    missing = [str(c.label) for c in COLUMNS[kind] if c.required and c.key not in mapping.values()]
    problems = []
    if unknown:
        problems.append(_("unknown columns: %(names)s", names=", ".join(unknown)))
    if repeated:
        problems.append(_("columns given twice: %(names)s", names=", ".join(repeated)))
    if missing:
        problems.append(_("required columns missing: %(names)s", names=", ".join(missing)))
    if problems:
        raise FileRefused(
            _(
                "The first row must name the columns; %(problems)s. Download the template to see "
                "the expected columns.",
                problems="; ".join(problems),
            )
        )
    return mapping


@dataclass
class ReadFile:
    file_format: str
    mapping: dict[int, str]
    rows: list[tuple[int, dict[str, str]]]


def read_file(kind: ImportKind, filename: str, content: bytes) -> ReadFile:
    """The whole file as {column key: text} per row; FileRefused when it cannot be imported."""
    if not content:
        raise FileRefused(_("The file is empty."))
    if len(content) > max_bytes():
        raise FileRefused(
            _(
                "The file is larger than %(mb)s MB; split it into smaller files.",
                mb=max_bytes() // (1024 * 1024),
            )
        )
    file_format = file_format_of(filename, content)
    rows = read_rows(content, file_format)
    try:
        _header_row, header = next(rows)
    except StopIteration:
        raise FileRefused(_("The file has no rows.")) from None
    mapping = map_header(kind, header)
    out = []
    formulas: list[str] = []
    for number, cells in rows:
        if len(out) >= MAX_ROWS:
            raise FileRefused(
                _("The file has more than %(n)d rows; split it into smaller files.", n=MAX_ROWS)
            )
        values = {key: (cells[i] if i < len(cells) else "") for i, key in mapping.items()}
        formulas += [
            _(
                "row %(row)d, column «%(column)s»: %(formula)s",
                row=number,
                column=column_label(kind, key),
                formula=text[:60],
            )
            for key, text in values.items()
            if text.startswith("=")
        ]
        out.append((number, values))
    if formulas:
        raise FileRefused(
            _(
                "Formulas are not imported; type the values themselves (in Excel: copy, then "
                "Paste Special → Values). %(cells)s",
                cells="; ".join(formulas[:5]) + ("; …" if len(formulas) > 5 else ""),
            )
        )
    if not out:
        raise FileRefused(_("The file has a header but no data rows."))
    return ReadFile(file_format, mapping, out)


def column_label(kind: ImportKind, key: str | None) -> str:
    if key is None:
        return ""
    for column in COLUMNS[ImportKind(kind)]:
        if column.key == key:
            return str(column.label)
    return key
