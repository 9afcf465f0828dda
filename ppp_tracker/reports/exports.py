"""Exports of every list to XLSX and CSV: the same query as the page (scope and filters), all rows,
with spreadsheet formula injection neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ppp_tracker import clock
from ppp_tracker.auth.models import User
from ppp_tracker.core.web import locale_code
from ppp_tracker.db import db
from ppp_tracker.registry import lists
from ppp_tracker.registry.models import Party
from ppp_tracker.reports.deadline_list import DeadlineFilter, deadline_items

#: A text cell starting with one of these is read by Excel/LibreOffice as a formula (OWASP CSV
#: injection); such text is written with a leading apostrophe, which spreadsheets show as text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")

#: More rows than this are refused: beyond it a spreadsheet is not the right tool.
MAX_EXPORT_ROWS = 100_000


def neutralise(text: str) -> str:
    """Text that cannot start a formula: "=HYPERLINK(…)" becomes "'=HYPERLINK(…)"."""
    if text and text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    header: Any
    value: Callable[[Any], Any]
    #: text, money, date, int, number: how the value is written.
    kind: str = "text"
    width: int = 18


def _label(value) -> str | None:
    return None if value is None else str(getattr(value, "label", value))


def _region(obj) -> str:
    return obj.region.name(locale_code()) if obj.region else ""


INSTITUTION_COLUMNS = [
    Column(_l("Name"), lambda i: i.name, width=40),
    Column(_l("Kind"), lambda i: _label(i.kind)),
    Column(_l("Region"), _region, width=24),
    Column(_l("Address"), lambda i: i.address, width=30),
    Column(_l("Capacity"), lambda i: i.capacity, "int", 10),
]
PARTY_COLUMNS = [
    Column(_l("Name"), lambda p: p.name, width=45),
    Column(_l("BIN / IIN"), lambda p: p.bin, width=14),
    Column(_l("Kind"), lambda p: _label(p.kind)),
    Column(_l("E-mail"), lambda p: p.email, width=24),
    Column(_l("Phone"), lambda p: p.phone),
    Column(_l("Address"), lambda p: p.address, width=30),
    Column(_l("Head"), lambda p: " ".join(x for x in (p.head_position, p.head_name) if x)),
]
PROJECT_COLUMNS = [
    Column(_l("Title"), lambda p: p.title, width=50),
    Column(_l("Kind"), lambda p: _label(p.kind)),
    Column(_l("Status"), lambda p: _label(p.status)),
    Column(_l("Region"), _region, width=24),
    Column(_l("Institution"), lambda p: p.institution.name if p.institution else None, width=30),
    Column(_l("Investor"), lambda p: p.investor.name if p.investor else None, width=30),
    Column(_l("Places"), lambda p: p.capacity, "int", 10),
    Column(_l("Land area, ha"), lambda p: p.land_area_ha, "number", 12),
    Column(_l("Estimated cost"), lambda p: p.estimated_cost, "money"),
    Column(_l("Term, years"), lambda p: p.term_years, "int", 10),
]
SITE_COLUMNS = [
    Column(_l("Name"), lambda s: s.name, width=45),
    Column(_l("Arrangement"), lambda s: _label(s.arrangement)),
    Column(_l("Status"), lambda s: _label(s.status)),
    Column(_l("Institution"), lambda s: s.institution.name, width=30),
    Column(_l("Operator"), lambda s: s.operator.name if s.operator else None, width=30),
    Column(_l("Operator's BIN"), lambda s: s.operator.bin if s.operator else None, width=14),
    Column(_l("Region"), _region, width=24),
    Column(_l("Activity"), lambda s: s.activity, width=24),
    Column(_l("Area, m²"), lambda s: s.area_m2, "number", 10),
    Column(_l("Convicts employed"), lambda s: s.employed, "int", 10),
]
CONTRACT_COLUMNS = [
    Column(_l("Number"), lambda c: c.number, width=16),
    Column(_l("Signed on"), lambda c: c.signed_on, "date", 12),
    Column(_l("Customer"), lambda c: c.customer.name, width=30),
    Column(_l("Contractor"), lambda c: c.contractor.name, width=30),
    Column(_l("Contractor's BIN"), lambda c: c.contractor.bin, width=14),
    Column(_l("Subject"), lambda c: c.subject, width=45),
    Column(_l("Region"), _region, width=24),
    Column(_l("Amount"), lambda c: c.total_amount, "money"),
    Column(_l("Currency"), lambda c: c.currency, width=8),
    Column(_l("Starts on"), lambda c: c.starts_on, "date", 12),
    Column(_l("Ends on"), lambda c: c.ends_on, "date", 12),
    Column(_l("Status"), lambda c: _label(c.status)),
    Column(_l("Penalty, % per day"), lambda c: c.penalty_rate_percent, "number", 10),
    Column(_l("Penalty cap, %"), lambda c: c.penalty_cap_percent, "number", 10),
    # As the list shows them on the day of the export.
    Column(_l("Overdue"), lambda c: c.figures.overdue, "int", 10),
    Column(_l("Penalty accrued"), lambda c: c.figures.penalty, "money"),
    Column(_l("Next due"), lambda c: c.figures.next_due, "date", 12),
]
DEADLINE_COLUMNS = [
    Column(_l("Contract"), lambda i: i.milestone.contract.number, width=16),
    Column(_l("Contractor"), lambda i: i.milestone.contract.contractor.name, width=30),
    Column(_l("Obligation"), lambda i: i.milestone.title, width=45),
    Column(_l("Type"), lambda i: _label(i.milestone.type)),
    Column(_l("Region"), lambda i: _region(i.milestone.contract), width=24),
    Column(_l("Due under the contract"), lambda i: i.milestone.due_on, "date", 12),
    Column(_l("Effective due date"), lambda i: i.timing.effective_due_on, "date", 12),
    Column(_l("State"), lambda i: _label(i.timing.state)),
    Column(_l("Days late"), lambda i: i.timing.days_late, "int", 10),
    Column(_l("Value"), lambda i: i.milestone.value, "money"),
    Column(_l("Penalty accrued"), lambda i: i.accrued, "money"),
    Column(
        _l("Responsible"),
        lambda i: i.milestone.responsible.email if i.milestone.responsible else None,
        width=24,
    ),
]


@dataclass(frozen=True)
class ExportSpec:
    title: Any
    columns: list[Column]
    rows: Callable[[User, Mapping], Iterable[Any]]


def _listing_rows(name: str) -> Callable[[User, Mapping], list]:
    def rows(user: User, args: Mapping) -> list:
        return lists.LISTS[name](user, args).all()

    return rows


class _WithFigures:
    """A contract of the export with its figures (`registry.lists.contract_figures`)."""

    def __init__(self, contract, figures):
        self._contract = contract
        self.figures = figures

    def __getattr__(self, name):
        return getattr(self._contract, name)


def _contract_rows(user: User, args: Mapping) -> list:
    contracts = lists.LISTS["contracts"](user, args).all()
    if len(contracts) > MAX_EXPORT_ROWS:
        return contracts  # refused by export_rows; not worth the figures
    figures = lists.contract_figures(contracts)
    return [_WithFigures(c, figures[c.id]) for c in contracts]


def _deadline_rows(user: User, args: Mapping) -> list:
    items = deadline_items(user, DeadlineFilter.from_args(args), clock.today())
    # Load every contractor at once; the rows then find them in the session without a query.
    contractor_ids = {i.milestone.contract.contractor_id for i in items}
    parties = db.session.scalars(sa.select(Party).where(Party.id.in_(contractor_ids))).all()
    _keep = list(parties)
    return items


EXPORTS: dict[str, ExportSpec] = {
    "institutions": ExportSpec(
        _l("Institutions"), INSTITUTION_COLUMNS, _listing_rows("institutions")
    ),
    "parties": ExportSpec(_l("Counterparties"), PARTY_COLUMNS, _listing_rows("parties")),
    "projects": ExportSpec(_l("Projects"), PROJECT_COLUMNS, _listing_rows("projects")),
    "sites": ExportSpec(_l("Production sites"), SITE_COLUMNS, _listing_rows("sites")),
    "contracts": ExportSpec(_l("Contracts"), CONTRACT_COLUMNS, _contract_rows),
    "deadlines": ExportSpec(_l("Deadlines"), DEADLINE_COLUMNS, _deadline_rows),
}
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


class TooManyRows(Exception):
    pass


def export_rows(name: str, user: User, args: Mapping) -> list:
    rows = list(EXPORTS[name].rows(user, args))
    if len(rows) > MAX_EXPORT_ROWS:
        raise TooManyRows(len(rows))
    return rows


def _csv_value(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value).quantize(Decimal('0.01'))}"
    if kind in ("int", "number"):
        return str(value)
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def to_csv(columns: list[Column], rows: Iterable[Any]) -> bytes:
    """RFC 4180 CSV in UTF-8 with a byte order mark (so Excel reads the Cyrillic right);
    dates as YYYY-MM-DD and amounts with a dot, as machines expect."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(str(c.header)) for c in columns])
    for row in rows:
        writer.writerow([_csv_value(c.value(row), c.kind) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(title: str, columns: list[Column], rows: Iterable[Any]) -> bytes:
    """A workbook with one sheet: bold header, real numbers and dates, filters, frozen header."""
    # openpyxl (with lxml and Pillow, 13 MiB) is imported by the processes that export only.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    workbook.properties.title = title
    workbook.properties.creator = "ppp-tracker"
    sheet = workbook.create_sheet(title=_sheet_title(title))
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=neutralise(str(column.header)))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, c.value(row), c.kind) for c in columns])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value, kind: str):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None:
        return None
    if kind == "money":
        # Decimal goes into the file as its exact text; no float on the way.
        cell = WriteOnlyCell(sheet, value=Decimal(value).quantize(Decimal("0.01")))
        cell.number_format = "#,##0.00"
        return cell
    if kind in ("int", "number"):
        return WriteOnlyCell(sheet, value=value)
    if kind == "date" and isinstance(value, date) and not isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD.MM.YYYY"
        return cell
    # Text: a string beginning with "=" would otherwise be stored as a formula by openpyxl, and
    # a control character (older rows may hold one) would make openpyxl refuse the whole sheet.
    cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value))))
    cell.data_type = "s"
    return cell


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return (cleaned or "Export")[:31]


def filename(name: str, fmt: str) -> str:
    return f"{name}-{clock.today().isoformat()}.{fmt}"


def render(name: str, fmt: str, user: User, args: Mapping) -> bytes:
    spec = EXPORTS[name]
    rows = export_rows(name, user, args)
    if fmt == "csv":
        return to_csv(spec.columns, rows)
    return to_xlsx(str(spec.title), spec.columns, rows)
