"""Import of counterparties, production sites and contracts with milestones from XLSX and CSV.

A file is checked when it is uploaded (is it a spreadsheet, in UTF-8, with known columns, not too
large), then a worker goes through every row with the registry's own services — so the rules are
those of the forms and the API — and records each bad row with its number and reason. Only a file
without a single bad row can be imported, and it is imported in one transaction: all rows or none.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ppp_tracker import clock
from ppp_tracker.auth.access import in_scope, scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.enums import LabelledEnum
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.core.folding import field_is, fold
from ppp_tracker.core.validation import normalise_dashes, safe_filename
from ppp_tracker.db import db
from ppp_tracker.money import MoneyError, parse_money, parse_percent
from ppp_tracker.registry import services
from ppp_tracker.registry.codes import (
    Arrangement,
    ContractStatus,
    MilestoneStatus,
    MilestoneType,
    Obligor,
    PartyKind,
    PenaltyBase,
    SiteStatus,
)
from ppp_tracker.registry.models import Contract, Institution, Party, ProductionSite, Project
from ppp_tracker.reports.models import ImportBatch, ImportKind, ImportStatus

#: More data rows than this are refused (split the file).
MAX_ROWS = 20_000
#: Rows kept for the preview table.
PREVIEW_ROWS = 30
#: Longest text accepted in one cell (the longest registry field is 20,000).
MAX_CELL = 20_000
#: A workbook that unpacks to more than this is refused before it is read (a "zip bomb" of a few
#: kilobytes can unpack to gigabytes); a full 20,000-row sheet unpacks to a few dozen MB.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: The start of an OLE2 compound file: an old .xls, or an .xlsx encrypted with a password.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
#: A worker that has shown no sign of life for this long has died; its batch may be taken over.
STALE_AFTER_SECONDS = 15 * 60


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


def _norm(text: str) -> str:
    """A header or a label as the file may write it: any case, ё = е, a required column's *."""
    return fold(str(text).strip().strip("*"))


def header_names(kind: ImportKind) -> dict[str, str]:
    """Accepted header texts → column key: the key itself and its label in every language."""
    names: dict[str, str] = {}
    for column in COLUMNS[kind]:
        names[_norm(column.key)] = column.key
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                names.setdefault(_norm(str(column.label)), column.key)
    return names


def map_header(kind: ImportKind, header: list[str]) -> dict[int, str]:
    """Column positions → keys; refuses unknown, repeated and missing required columns."""
    names = header_names(kind)
    mapping: dict[int, str] = {}
    unknown, repeated = [], []
    for index, text in enumerate(header):
        if not _norm(text):
            continue
        key = names.get(_norm(text))
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


# --- batches -----------------------------------------------------------------------------------


def create_batch(user: User, kind: str, filename: str, content: bytes) -> ImportBatch:
    """Store an uploaded file for checking, after refusing what cannot be imported at all."""
    try:
        import_kind = ImportKind(kind)
    except ValueError:
        raise Invalid.one("kind", _("Choose what the file contains.")) from None
    filename = safe_filename(filename)
    if not filename:
        raise Invalid.one("file", _("Choose a file."))
    try:
        read = read_file(import_kind, filename, content)
    except FileRefused as exc:
        raise Invalid.one("file", exc.message) from None
    batch = ImportBatch(
        kind=import_kind,
        status=ImportStatus.QUEUED,
        user_id=user.id,
        region_code=user.region_code,
        filename=filename,
        file_format=read.file_format,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        total_rows=len(read.rows),
        processed_rows=0,
        errors=[],
        preview=_preview(import_kind, read),
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def _preview(kind: ImportKind, read: ReadFile) -> dict:
    keys = [c.key for c in COLUMNS[kind] if c.key in read.mapping.values()]
    return {
        "columns": keys,
        "rows": [
            [number, *[values.get(k, "") for k in keys]]
            for number, values in read.rows[:PREVIEW_ROWS]
        ],
    }


def claim(batch_id: int, wanted: ImportStatus, working: ImportStatus) -> bool:
    """Take the batch for a worker: exactly one row changes from `wanted` to `working` (or a
    stale `working` whose worker died is taken over). False: someone else has it, or it is done."""
    now = clock.now()
    stale_at = now - timedelta(seconds=STALE_AFTER_SECONDS)
    result = db.session.execute(
        sa.update(ImportBatch)
        .where(
            ImportBatch.id == batch_id,
            sa.or_(
                ImportBatch.status == wanted,
                sa.and_(ImportBatch.status == working, ImportBatch.heartbeat_at < stale_at),
            ),
        )
        .values(status=working, heartbeat_at=now, processed_rows=0)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def request_commit(batch: ImportBatch) -> bool:
    """Ask for the import of a checked, faultless batch. The conditional UPDATE is the claim:
    two clicks (or two tabs) cannot queue the same file twice."""
    if batch.errors:
        raise Invalid.one("file", _("This file has errors; correct them and upload it again."))
    result = db.session.execute(
        sa.update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.status == ImportStatus.CHECKED)
        .values(status=ImportStatus.COMMIT_QUEUED)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict.one("file", _("This import is not waiting for confirmation."))
    # The object follows the row; its flush writes who asked for the import to the audit log.
    batch.status = ImportStatus.COMMIT_QUEUED
    db.session.flush()
    return True


# --- going through the rows ----------------------------------------------------------------------


@dataclass
class Outcome:
    created: int = 0
    errors: list[dict] = field(default_factory=list)
    #: Column key → its letter in the file ("C"), to name the cell of a problem.
    letters: dict[str, str] = field(default_factory=dict)

    def add(self, row: int, column: str | None, message: str) -> None:
        self.errors.append(
            {
                "row": row,
                "column": column,
                "letter": self.letters.get(column or ""),
                "message": str(message),
            }
        )


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at `index` (from 0): A, …, Z, AA, AB…"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class RowError(Exception):
    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


def _enum_map(enum_cls: type[LabelledEnum]) -> dict[str, str]:
    """Accepted texts → code: the code itself («delivery») and its label in every language,
    whole or without its explanation in brackets («Поставка (исполнение)», «Поставка»,
    «Жеткізу»), folded as a search folds them."""
    out: dict[str, str] = {}
    for member in enum_cls:
        out[_norm(member.value)] = member.value
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                label = str(member.label)
            out.setdefault(_norm(label), member.value)
            out.setdefault(_norm(re.sub(r"\s*\(.*\)\s*$", "", label)), member.value)
    return out


class NoSuchDay(ValueError):
    """A date in the right format that the calendar does not have (31.02.2027)."""


_TRUE = {"1", "yes", "y", "true", "да", "иә", "ия", "+", "x"}
_FALSE = {"0", "no", "n", "false", "нет", "жоқ", "-"}


class Converter:
    """Turns a row's texts into the values the registry services take; caches look-ups."""

    def __init__(self, user: User, kind: ImportKind):
        self.user = user
        self.columns = {c.key: c for c in COLUMNS[kind]}
        self.enums: dict[type, dict[str, str]] = {}

    def value(self, key: str, text: str):
        column = self.columns[key]
        text = (text or "").strip()
        if len(text) > MAX_CELL:
            raise RowError(key, _("At most %(n)d characters.", n=MAX_CELL))
        if not text:
            if column.required:
                raise RowError(key, _("This field is required."))
            return None
        kind = column.kind
        try:
            if kind == "date":
                return parse_date(text)
            if kind == "money":
                return parse_money(text)
            if kind == "percent":
                return parse_percent(text)
            if kind == "int":
                number = Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
                if number != number.to_integral_value():
                    raise ValueError
                return int(number)
            if kind == "decimal":
                return Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except NoSuchDay:
            raise RowError(key, _("No such day: %(date)s.", date=text)) from None
        except (ValueError, MoneyError, InvalidOperation):
            messages = {
                "date": _("Not a date; write it as DD.MM.YYYY."),
                "money": _("Not an amount in tenge with at most two decimals."),
                "percent": _("Not a percentage."),
                "int": _("Must be a whole number."),
                "decimal": _("Must be a number."),
            }
            raise RowError(key, messages[kind]) from None
        if kind == "bool":
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise RowError(key, _("Write yes or no."))
        if kind == "enum":
            mapping = self.enums.setdefault(column.enum, _enum_map(column.enum))
            found = mapping.get(_norm(text))
            if found is None:
                raise RowError(
                    key,
                    _(
                        "Unknown value «%(value)s»; allowed: %(allowed)s.",
                        value=text,
                        allowed=", ".join(str(m.label) for m in column.enum),
                    ),
                )
            return found
        if kind == "party":
            return self.party(key, text)
        return normalise_dashes(text) if key == "number" else text

    def party(self, key: str, text: str) -> int:
        compact = text.replace(" ", "")
        if re.fullmatch(r"\d{12}", compact):
            found = db.session.scalar(sa.select(Party.id).where(Party.bin == compact))
            if found is None:
                raise RowError(key, _("No counterparty with the BIN %(bin)s.", bin=compact))
            return found
        ids = db.session.scalars(
            sa.select(Party.id).where(field_is(Party, "name", text)).limit(2)
        ).all()
        if not ids:
            raise RowError(key, _("No counterparty named %(name)s.", name=text))
        if len(ids) > 1:
            raise RowError(
                key, _("Several counterparties are named %(name)s; give the BIN.", name=text)
            )
        return ids[0]

    def scoped_one(self, key: str, model, name: str, text: str) -> int:
        """A record of the user's regions by its id or its name (its title), as the app shows
        it: any case, ё = е, quotes alike (core.folding)."""
        stmt = sa.select(model.id)
        if text.isdigit():
            stmt = stmt.where(model.id == int(text))
        else:
            stmt = stmt.where(field_is(model, name, text))
        ids = db.session.scalars(scope(stmt, self.user, model.region_code).limit(2)).all()
        if not ids:
            raise RowError(key, _("Nothing called %(name)s in your regions.", name=text))
        if len(ids) > 1:
            raise RowError(key, _("Several records are called %(name)s; give the id.", name=text))
        return ids[0]


def parse_date(text: str) -> date:
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?", text)
        if not match:
            raise ValueError(text)
        year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise NoSuchDay(text) from None


def _convert(converter: Converter, values: dict[str, str], keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    problems: list[RowError] = []
    for key in keys:
        if key not in values and not converter.columns[key].required:
            continue
        try:
            out[key] = converter.value(key, values.get(key, ""))
        except RowError as exc:
            problems.append(exc)
    if problems:
        raise RowGroupError(problems)
    return out


class RowGroupError(Exception):
    def __init__(self, problems: list[RowError]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _service_errors(outcome: Outcome, row: int, exc: Invalid, field_map: dict[str, str]) -> None:
    for field_name, messages in exc.errors.items():
        column = field_map.get(field_name, field_name)
        for message in messages:
            outcome.add(row, column, message)


ProgressFn = Callable[[int], None]


def process(batch: ImportBatch, progress: ProgressFn | None = None) -> Outcome:
    """Apply every row through the registry services in the current transaction and collect
    the problems. The caller commits when there are none and it means to import, else rolls back.
    """
    user = db.session.get(User, batch.user_id)
    outcome = Outcome()
    if user is None or not user.active:
        outcome.add(0, None, _("The user who uploaded the file can no longer make changes."))
        return outcome
    read = read_file(batch.kind, batch.filename, batch.content)
    outcome.letters = {key: column_letter(index) for index, key in read.mapping.items()}
    converter = Converter(user, batch.kind)
    handler = {
        ImportKind.PARTIES: _party_row,
        ImportKind.SITES: _site_row,
        ImportKind.CONTRACTS: _contract_row,
    }[ImportKind(batch.kind)]
    state: dict[str, Any] = {}
    for done, (number, values) in enumerate(read.rows, 1):
        try:
            handler(user, converter, number, values, outcome, state)
        except RowGroupError as exc:
            for problem in exc.problems:
                outcome.add(number, problem.column, problem.message)
        except RowError as exc:
            outcome.add(number, exc.column, exc.message)
        except Invalid as exc:
            _service_errors(outcome, number, exc, state.get("field_map", {}))
        if progress is not None:
            progress(done)
    return outcome


def _party_row(user, converter, number, values, outcome: Outcome, state) -> None:
    data = _convert(converter, values, [c.key for c in PARTY_COLUMNS])
    bins = state.setdefault("bins", {})
    if data.get("bin"):
        key = str(data["bin"]).replace(" ", "")
        if key in bins:
            raise RowError("bin", _("The same BIN/IIN as row %(n)d.", n=bins[key]))
        bins[key] = number
    services.save_party(user, data)
    outcome.created += 1


def _site_row(user, converter, number, values, outcome: Outcome, state) -> None:
    data = _convert(converter, values, [c.key for c in SITE_COLUMNS if c.key != "institution"])
    institution_text = (values.get("institution") or "").strip()
    if not institution_text:
        raise RowError("institution", _("This field is required."))
    data["institution"] = converter.scoped_one("institution", Institution, "name", institution_text)
    if "operator" in data:
        data["operator_id"] = data.pop("operator")
    if data.get("employed") is None:
        data.pop("employed", None)
    state["field_map"] = {"operator_id": "operator"}
    services.save_site(user, data)
    outcome.created += 1


def _contract_row(user, converter, number, values, outcome: Outcome, state) -> None:
    contracts: dict[tuple, tuple[int, Contract | None, dict]] = state.setdefault("contracts", {})
    state["field_map"] = {
        "customer_id": "customer",
        "contractor_id": "contractor",
        "project_id": "project",
        "site_id": "site",
        "penalty.rate_percent_per_day": "penalty_rate",
        "penalty.base": "penalty_base",
        "penalty.cap_percent": "penalty_cap",
        "response_period.days": "response_days",
        "response_period.working": "response_working",
    }
    number_text = fold(values.get("number"))
    signed_text = (values.get("signed_on") or "").strip()
    customer_text = fold(values.get("customer"))
    last_key: dict[str, tuple] = state.setdefault("last_key", {})
    if not signed_text and not customer_text and number_text in last_key:
        # A further milestone of the contract above, its contract columns left empty.
        key = last_key[number_text]
    else:
        key = (number_text, signed_text, customer_text)
        last_key[number_text] = key
    previous = contracts.get(key)
    if previous is None:
        raw = {k: (values.get(k) or "").strip() for k in CONTRACT_FIELDS}
        contracts[key] = (number, None, raw)
        problems: list[RowError] = []
        try:
            data = _convert(
                converter, values, [k for k in CONTRACT_FIELDS if k not in ("project", "site")]
            )
        except RowGroupError as exc:
            data, problems = {}, list(exc.problems)
        project_text, site_text = raw["project"], raw["site"]
        try:
            if bool(project_text) == bool(site_text):
                raise RowError(
                    "project", _("Give either a project or a production site (exactly one).")
                )
            if project_text:
                data["project_id"] = converter.scoped_one("project", Project, "title", project_text)
            else:
                data["site_id"] = converter.scoped_one("site", ProductionSite, "name", site_text)
        except RowError as exc:
            problems.append(exc)
        if not problems:
            try:
                contract = services.save_contract(user, _contract_data(data))
            except Invalid as exc:
                problems += [
                    RowError(state["field_map"].get(name, name), message)
                    for name, messages in exc.errors.items()
                    for message in messages
                ]
            else:
                contracts[key] = (number, contract, raw)
                outcome.created += 1
        if problems:
            # The row's milestone is checked too: every problem of the file at once.
            raise RowGroupError(problems + _milestone_problems(converter, values))
    else:
        first_row, contract, raw = previous
        problems = [
            RowError(
                field_key,
                _(
                    "Differs from row %(n)d of the same contract; repeat it or leave it empty.",
                    n=first_row,
                ),
            )
            for field_key in CONTRACT_FIELDS
            if (values.get(field_key) or "").strip()
            and (values.get(field_key) or "").strip() != raw.get(field_key, "")
        ]
        if problems or contract is None:
            # A contract with problems (named in its row) cannot take its milestones; what this
            # row can be checked for alone is checked now, not after the contract is corrected.
            problems += _milestone_problems(converter, values)
            if problems:
                raise RowGroupError(problems)
            return
    if (values.get("milestone_title") or "").strip():
        _milestone(user, converter, values, contracts[key][1], outcome, state)
    elif any((values.get(k) or "").strip() for k in MILESTONE_FIELDS):
        raise RowError("milestone_title", _("Give the milestone's title."))


def _contract_data(data: dict) -> dict:
    out = {
        k: data[k]
        for k in (
            "number",
            "signed_on",
            "subject",
            "total_amount",
            "starts_on",
            "ends_on",
            "status",
            "project_id",
            "site_id",
        )
        if k in data and data[k] is not None
    }
    out["customer_id"] = data.get("customer")
    out["contractor_id"] = data.get("contractor")
    if data.get("officer"):
        out["officer"] = data["officer"]
    penalty = {}
    if data.get("penalty_rate") is not None:
        penalty["rate_percent_per_day"] = data["penalty_rate"]
    if data.get("penalty_base") is not None:
        penalty["base"] = data["penalty_base"]
    if data.get("penalty_cap") is not None:
        penalty["cap_percent"] = data["penalty_cap"]
    if penalty:
        out["penalty"] = penalty
    period = {}
    if data.get("response_days") is not None:
        period["days"] = data["response_days"]
    if data.get("response_working") is not None:
        period["working"] = data["response_working"]
    if period:
        out["response_period"] = period
    return out


def _milestone_problems(converter: Converter, values: dict[str, str]) -> list[RowError]:
    """What is wrong with a row's milestone on its own (without its contract)."""
    if not any((values.get(k) or "").strip() for k in MILESTONE_FIELDS):
        return []
    problems: list[RowError] = []
    try:
        data = _convert(converter, values, MILESTONE_FIELDS)
    except RowGroupError as exc:
        problems, data = list(exc.problems), {}
    if not (values.get("milestone_title") or "").strip():
        problems.append(RowError("milestone_title", _("Give the milestone's title.")))
    elif not (values.get("milestone_type") or "").strip() and data.get("milestone_type") is None:
        problems.append(RowError("milestone_type", _("This field is required.")))
    return problems


def _milestone(user, converter, values, contract: Contract | None, outcome: Outcome, state) -> None:
    data = _convert(converter, values, MILESTONE_FIELDS)
    if data.get("milestone_type") is None:
        raise RowError("milestone_type", _("This field is required."))
    if contract is None:  # pragma: no cover - the contract row raised before
        return
    service_data: dict[str, Any] = {
        "title": data["milestone_title"],
        "type": data["milestone_type"],
        "due_on": data.get("milestone_due_on"),
    }
    for source, target in (
        ("milestone_value", "value"),
        ("milestone_obligor", "obligor"),
        ("milestone_responsible", "responsible"),
        ("milestone_met_on", "met_on"),
    ):
        if data.get(source) is not None:
            service_data[target] = data[source]
    if service_data.get("met_on") is not None:
        service_data["status"] = MilestoneStatus.MET.value
    columns = {
        "title": "milestone_title",
        "type": "milestone_type",
        "due_on": "milestone_due_on",
        "value": "milestone_value",
        "obligor": "milestone_obligor",
        "responsible": "milestone_responsible",
        "met_on": "milestone_met_on",
        "status": "milestone_met_on",
    }
    try:
        services.save_milestone(user, contract, service_data)
    except Invalid as exc:
        # The service names the milestone's fields; the file calls them milestone_….
        raise Invalid({columns.get(k, k): v for k, v in exc.errors.items()}) from None
    outcome.created += 1


def finish(batch: ImportBatch, outcome: Outcome, *, committed: bool) -> None:
    """Record the outcome on the batch (in the transaction the caller commits)."""
    batch.processed_rows = batch.total_rows
    batch.errors = sorted(outcome.errors, key=lambda e: (e["row"], e["column"] or ""))
    batch.created_count = outcome.created
    if committed:
        batch.status = ImportStatus.DONE
        batch.finished_at = clock.now()
    elif batch.status == ImportStatus.COMMITTING:
        batch.status = ImportStatus.FAILED
        batch.finished_at = clock.now()
    else:
        batch.status = ImportStatus.CHECKED
    batch.heartbeat_at = clock.now()
    db.session.flush()


def unexpected_error_message() -> str:
    return _(
        "An unexpected error stopped the work on this file; nothing was imported. "
        "The administrators can find the details in the worker's log."
    )


def visible_batches(user: User, limit: int = 50) -> list[ImportBatch]:
    stmt = sa.select(ImportBatch).order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
    if user.region_code is not None:
        stmt = stmt.where(ImportBatch.region_code == user.region_code)
    return list(db.session.scalars(stmt.limit(limit)))


def column_label(kind: ImportKind, key: str | None) -> str:
    if key is None:
        return ""
    for column in COLUMNS[ImportKind(kind)]:
        if column.key == key:
            return str(column.label)
    return key


def may_see(user: User, batch: ImportBatch) -> bool:
    return in_scope(user, batch.region_code)
