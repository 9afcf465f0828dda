"""The data version, and page bodies rendered once per version.

Every committed change of the registry goes through the audit hook (`core.audit`); a commit that
wrote an audit event — or that stored derived data a page shows, such as the dashboard's snapshot
or the scan's new alerts (`changed(session)`) — also moves the one-row counter `data_versions`
forward, in the same transaction, just before it commits. (A bulk statement through the session on
an audited model, or on a model marked `__moves_data_version__ = True`, counts too.) Every page
reads the counter with the logged-in user (`core.web.WITH_USER`, no extra round trip), so a page
whose body depends only on audited data, the user's scope and role, the language, the day and the
query string can keep the body it rendered and reuse it until the version moves (`cached_body`).

Why the counter is exact under concurrency (PostgreSQL, READ COMMITTED): the increment is an
UPDATE of one row, so two committing transactions take its lock in turn and the counter's order
is the order of their commits; a change and its new version become visible together. A request
that read version N sees, in its later statements, every change committed up to N (and maybe
newer ones: a body rendered from newer data under N is newer, never older, than N). The lock is
held only from the increment to the COMMIT right after it.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ppp_tracker.db import db

#: `session.info` key: this transaction changed what pages show.
CHANGED = "ppp_data_changed"
#: The name of the version among the values read with the user (core.web.WITH_USER).
WITH_USER_NAME = "core.data_version"


class DataVersion(db.Model):
    """One row: a number that moves with every committed change of audited data."""

    __tablename__ = "data_versions"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(sa.BigInteger)


def changed(session: Session) -> None:
    """Mark the session's transaction as changing what pages show (the audit hook does this for
    every audited change; derived data that pages show, such as snapshots, call it)."""
    session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _move_version(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint's release (begin_nested): the version moves with the real COMMIT only,
        # so that its row is locked for a moment, not for the rest of a long transaction.
        return
    # The commit flushes after this hook: flush first, so that the audit hook has seen all.
    session.flush()
    if not session.info.pop(CHANGED, False):
        return
    table = DataVersion.__table__
    connection = session.connection()
    moved = connection.execute(
        sa.update(table).where(table.c.id == 1).values(version=table.c.version + 1)
    ).rowcount
    if not moved:
        # The row is made by the migration; a database built otherwise gets it now, at a random
        # start so that a version seen before the table was emptied never comes back.
        connection.execute(sa.insert(table).values(id=1, version=secrets.randbits(62)))


@event.listens_for(Session, "after_transaction_end")
def _forget_change(session: Session, transaction) -> None:
    # When the whole transaction ends (after a COMMIT the mark is gone already; after a rollback
    # its changes are): a savepoint ending leaves the changes made before it, which still move
    # the version at the COMMIT.
    if transaction.parent is None:
        session.info.pop(CHANGED, None)


def select_version():
    """The version as one value, read in the user's statement (core.web.WITH_USER)."""
    return sa.select(DataVersion.version).where(DataVersion.id == 1)


def current() -> int | None:
    """The version read with this request's user; None when no user was loaded from the
    session (nothing may be cached then)."""
    from ppp_tracker.core.web import NOT_LOADED, with_user

    value = with_user(WITH_USER_NAME)
    return None if value is NOT_LOADED else value


# --- page bodies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    body: Markup
    expires_at: datetime | None


class BodyCache:
    """A small LRU of rendered page bodies, shared by a process's threads, bounded by count and
    by the characters it holds (bodies of versions gone by stay until pushed out)."""

    def __init__(self, size: int, max_chars: int | None = None):
        self.size = size
        self.max_chars = max_chars
        self.chars = 0
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        #: Keys whose body a thread is rendering now, with the event it sets when done.
        self._rendering: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable, now: datetime | None = None) -> Markup | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            if entry.expires_at is not None and (now is None or now > entry.expires_at):
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return entry.body

    def put(self, key: Hashable, body: Markup, expires_at: datetime | None = None) -> None:
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = _Entry(body, expires_at)
            self.chars += len(body)
            while self._items and (
                len(self._items) > self.size
                or (self.max_chars is not None and self.chars > self.max_chars)
            ):
                self._drop(next(iter(self._items)))

    def claim(self, key: Hashable) -> threading.Event | None:
        """None when the caller is to render `key`'s body (and must call `done(key)` after,
        whatever happens); otherwise the event another thread sets when its render is done."""
        with self._lock:
            rendering = self._rendering.get(key)
            if rendering is None:
                self._rendering[key] = threading.Event()
            return rendering

    def done(self, key: Hashable) -> None:
        with self._lock:
            rendering = self._rendering.pop(key, None)
        if rendering is not None:
            rendering.set()

    def _drop(self, key: Hashable) -> None:
        self.chars -= len(self._items.pop(key).body)

    def __len__(self) -> int:
        return len(self._items)


#: Bodies kept per process: dashboards are 130–170 thousand characters, list pages 10–25. At
#: most 400 of them and 16 million characters (32 MB at most: Python keeps Cyrillic text in two
#: bytes a character): every scope's dashboard in three languages (about 10 million) and a few
#: hundred list pages.
BODIES = 400
BODY_CHARS = 16_000_000
#: How long a request waits for another thread's render of the same body before rendering its
#: own (a render takes 5–40 ms; a slow one must not hold the others much longer than that).
RENDER_WAIT_S = 2.0


def bodies() -> BodyCache:
    """This app's cache (each app its own: tests make many apps with other data)."""
    return current_app.extensions.setdefault("page_bodies", BodyCache(BODIES, BODY_CHARS))


def cached_body(key: tuple, render: Callable[[], str]) -> Markup:
    """The body rendered by `render` (our own autoescaped template's output) for `key`, reused
    while the data version stays the same.

    `key` must name everything the body shows besides audited data: the page, the user's scope
    and role, the language, the day, the query string. A body holding a form's CSRF token is
    never kept: it is the session's own. (The dashboard, whose body also ages with its snapshot,
    uses `bodies()` with an expiry itself.)
    """
    version = current()
    if version is None:
        return Markup(render())  # noqa: S704 - our own template's output, autoescaped
    cache = bodies()
    full_key = (*key, version)
    body = cache.get(full_key)
    if body is not None:
        return body
    # After a change every thread asking for the page would render it at once (each render
    # tens of milliseconds of CPU, queued on the same cores): one renders, the others wait for
    # its body — or render their own if it kept none (an error, a CSRF token) or took too long.
    rendering = cache.claim(full_key)
    if rendering is not None:
        rendering.wait(RENDER_WAIT_S)
        return cache.get(full_key) or Markup(render())  # noqa: S704 - as below
    try:
        body = Markup(render())  # noqa: S704 - our own template's output, autoescaped
        if "csrf_token" not in body:
            cache.put(full_key, body)
    finally:
        cache.done(full_key)
    return body


def scope_body(user, page: str, render: Callable[[], str], *extra: Hashable) -> Markup:
    """`cached_body` for a page whose body is the same for every user of a scope (region) and
    role: keyed by the page, the user's region and role, the language, the day, the query
    string, and `extra` (whatever else the body shows that the data version does not follow)."""
    from flask import request

    from ppp_tracker import clock
    from ppp_tracker.core.web import locale_code

    key = (
        page,
        user.region_code,
        user.role,
        locale_code(),
        clock.today(),
        tuple(request.args.items(multi=True)),
        *extra,
    )
    return cached_body(key, render)
