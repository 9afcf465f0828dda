"""Lists with search, filters, sorting and pagination, driven by the query string."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import request, url_for

from ppp_tracker.core import limits
from ppp_tracker.core.folding import contains
from ppp_tracker.core.web import link_args
from ppp_tracker.db import db

PER_PAGE_CHOICES = (25, 50, 100)
#: Beyond this a page number is a typing mistake (and beyond 2**63 / 100 the database's OFFSET
#: overflows: a 500 before this limit).
MAX_PAGE = 1_000_000


def _fits(column, value: str) -> bool:
    """Whether a column can hold `value` at all: an enum one of its values, an integer one a
    number within INTEGER (the database would refuse anything else with an error)."""
    column_type = getattr(column, "type", None)
    allowed = getattr(column_type, "enums", None)
    if allowed is not None:
        return value in allowed
    if isinstance(column_type, sa.Integer):
        try:
            return abs(int(value)) <= limits.MAX_ID
        except ValueError:
            return False
    return True


@dataclass
class Listing:
    """A select plus what the query string asks of it (q, sort, page, per_page, filters).

    `search` columns (a record's `search_text`, or columns of ASCII codes) are matched with
    `core.folding.contains` (any case, ё = е, quotes alike; % and _ taken literally), or
    functions of the term returning a condition; `filters`
    maps a query argument to a column compared for equality; `sorts` maps a sort key to a
    column ("-key" descends).
    """

    stmt: Any
    search: list = field(default_factory=list)
    sorts: dict = field(default_factory=dict)
    default_sort: str = ""
    filters: dict = field(default_factory=dict)
    args: dict | None = None

    def __post_init__(self) -> None:
        args = self.args if self.args is not None else request.args
        self.q = (args.get("q") or "").strip()[: limits.SEARCH]
        self.sort = args.get("sort") or self.default_sort
        if self.sort.lstrip("-") not in self.sorts:
            self.sort = self.default_sort
        self.active_filters = {
            name: args.get(name) for name in self.filters if args.get(name) not in (None, "")
        }
        try:
            self.per_page = int(args.get("per_page", PER_PAGE_CHOICES[0]))
        except ValueError:
            self.per_page = PER_PAGE_CHOICES[0]
        if self.per_page not in PER_PAGE_CHOICES:
            self.per_page = PER_PAGE_CHOICES[0]
        try:
            self.page = min(max(1, int(args.get("page", 1))), MAX_PAGE)
        except ValueError:
            self.page = 1

    def query(self):
        stmt = self.stmt
        if self.q and self.search:
            matches = [
                contains(col, self.q) if hasattr(col, "like") else col(self.q)
                for col in self.search
            ]
            stmt = stmt.where(sa.or_(*matches))
        for name, value in self.active_filters.items():
            target = self.filters[name]
            if hasattr(target, "__clause_element__"):
                # A value the column cannot hold (an unknown kind, text for a number) matches
                # nothing; the database would refuse the comparison with an error (a 500).
                stmt = stmt.where(target == value if _fits(target, value) else sa.false())
            else:
                stmt = target(stmt, value)
        if self.sort:
            column = self.sorts[self.sort.lstrip("-")]
            if self.q and self.search:
                # A search sorts its matches instead of walking the sort's index through every
                # row: SQLite walked ix_contracts_signed_on through 10,000 contracts to find
                # none (132 ms against 36; bench search, docs/performance.md).
                column = sa.func.coalesce(column, column)
            stmt = stmt.order_by(column.desc() if self.sort.startswith("-") else column.asc())
        return stmt

    @property
    def pagination(self):
        if not hasattr(self, "_pagination"):
            self._pagination = db.paginate(
                self.query(), page=self.page, per_page=self.per_page, error_out=False
            )
        return self._pagination

    @property
    def items(self):
        return self.pagination.items

    def all(self):
        """Every matching row, for exports."""
        return db.session.scalars(self.query()).unique().all()

    def url(self, **changes) -> str:
        """This page's address with some arguments changed (page, sort, a filter…)."""
        path = request.view_args or {}
        args = link_args(request.args, (*path, *changes, "page"))
        args.update({k: v for k, v in changes.items() if v is not None})
        return url_for(request.endpoint, **path, **args)

    def sort_url(self, key: str) -> str:
        new = f"-{key}" if self.sort == key else key
        return self.url(sort=new)

    def sort_mark(self, key: str) -> str:
        if self.sort == key:
            return "▲"
        if self.sort == f"-{key}":
            return "▼"
        return ""


@dataclass
class Pages:
    """Pagination of a list counted and cut by its page itself (not a `Listing` query), shaped
    for the `pager` macro: `page_arg` names its page in the query string (a page may show two
    lists), `anchor` brings the reader back to it."""

    total: int
    page: int
    per_page: int
    page_arg: str = "page"
    anchor: str | None = None

    @property
    def pagination(self) -> Pages:
        return self

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, *, left_edge=2, left_current=2, right_current=4, right_edge=2):
        """Page numbers with None for a gap, as Flask-SQLAlchemy's pagination gives them."""
        pages_end = self.pages + 1
        left_end = min(1 + left_edge, pages_end)
        yield from range(1, left_end)
        if left_end == pages_end:
            return
        mid_start = max(left_end, self.page - left_current)
        mid_end = min(self.page + right_current + 1, pages_end)
        if mid_start - left_end > 0:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end == pages_end:
            return
        right_start = max(mid_end, pages_end - right_edge)
        if right_start - mid_end > 0:
            yield None
        yield from range(right_start, pages_end)

    def url(self, page: int) -> str:
        path = request.view_args or {}
        args = {**link_args(request.args, (*path, self.page_arg)), self.page_arg: page}
        return url_for(request.endpoint, **path, **args, _anchor=self.anchor)
