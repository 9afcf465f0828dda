"""The data version, and page bodies rendered once per version.

Every committed change of the registry goes through the audit hook (`core.audit`); a commit that
wrote an audit event — or that stored derived data a page shows, such as the dashboard's snapshot
or the scan's new alerts (`changed(session)`) — also moves the one-row counter `data_versions`
forward, in the same transaction, just before it commits. (A bulk statement through the session on
an audited model, or on a model marked `__moves_data_version__ = True`, counts too.) Every page
reads the counter with the logged-in user (`core.web.WITH_USER`, no extra round trip), so a page
whose body depends only on audited data, the user's scope and role, the language, the day and the
query string can keep the body it rendered and reuse it until the version moves (`cached_body`).

The kept bodies live in Redis through Flask-Caching (`pages`), shared by every web process and
machine (DESIGN §7): a body is stored under its key without the version, with the version it was
rendered at, so a change replaces the bodies instead of piling up new keys, and a body of an older
version is never served. Without Redis (the embedded default: SQLite and the SQLite broker)
nothing is kept and every page renders its body (Flask-Caching's NullCache): nothing lives in
process memory. Logins move nothing a kept body depends on (`last_login_at` is not audited).

Why the counter is exact under concurrency (PostgreSQL, READ COMMITTED): the increment is an
UPDATE of one row, so two committing transactions take its lock in turn and the counter's order
is the order of their commits; a change and its new version become visible together. A request
that read version N sees, in its later statements, every change committed up to N (and maybe
newer ones: a body rendered from newer data under N is newer, never older, than N). The lock is
held only from the increment to the COMMIT right after it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_caching import Cache
from flask_caching.backends import NullCache
from markupsafe import Markup
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ppp_tracker import clock
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


# --- page bodies, kept in Redis -----------------------------------------------------------

log = logging.getLogger(__name__)

#: The kept page bodies (Flask-Caching): Redis when the app has one, else nothing is kept.
pages = Cache()

#: How long an unused body stays in Redis. Bodies are keyed without the data version (a change
#: replaces them), so what bounds Redis's memory is the set of pages asked for within this time
#: (every scope's dashboard in three languages is about 10 MB; list pages 10–25 KB each).
BODY_TTL_S = 600
#: How long a request waits for another process's render of the same body before rendering its
#: own (a render takes 5–40 ms; a slow one must not hold the others much longer than that), and
#: how often it looks.
RENDER_WAIT_S = 2.0
RENDER_POLL_S = 0.005


def _build_id(app: Flask) -> str:
    """What the bodies are made from besides the data: the templates and the translations. Kept
    bodies of another build (a deployment that changed them) are never read."""
    digest = hashlib.sha1(usedforsecurity=False)
    roots = [Path(app.root_path).parent / "templates", Path(app.root_path)]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".html", ".mo", ".svg", ".txt") and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def redis_url(app: Flask) -> str | None:
    """Redis for the kept bodies: `CACHE_REDIS_URL`, or the Celery broker when it is Redis (as in
    production); None on the embedded default."""
    url = app.config.get("CACHE_REDIS_URL")
    if url:
        return url
    broker = (app.config.get("CELERY") or {}).get("broker_url") or ""
    return broker if broker.startswith(("redis://", "rediss://")) else None


def init_app(app: Flask) -> None:
    url = redis_url(app)
    if url is None:
        config = {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    else:
        # Deployments (and test runs) sharing one Redis keep apart by their database; builds
        # with other templates by their build id.
        database = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
        scope = hashlib.sha1(database.encode(), usedforsecurity=False).hexdigest()[:12]
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": url,
            "CACHE_KEY_PREFIX": f"ppp:pages:{scope}:{_build_id(app)}:",
            "CACHE_DEFAULT_TIMEOUT": BODY_TTL_S,
        }
    pages.init_app(app, config=config)


def _keeps() -> bool:
    return not isinstance(pages.cache, NullCache)


@dataclass(frozen=True)
class Body:
    """What a render returns when it decides itself whether and until when its body is kept."""

    html: str
    #: False: show it, keep nothing (shown figures not yet stored, a form's token…).
    keep: bool = True
    #: Not served after this moment (a dashboard's figures grow old).
    expires_at: datetime | None = None


def _key(key: tuple) -> str:
    return hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()


def _read(name: str, version: int, now: datetime) -> Markup | None:
    kept = pages.get(name)
    if kept is None:
        return None
    kept_version, expires_at, html = kept
    if kept_version != version or (expires_at is not None and now > expires_at):
        return None
    return Markup(html)  # noqa: S704 - stored by `cached_body`: our own template's output


def cached_body(
    key: tuple, render: Callable[[], str | Body], wait: float = RENDER_WAIT_S
) -> Markup:
    """The body rendered by `render` (our own autoescaped template's output) for `key`, reused
    by every process while the data version stays the same.

    `key` must name everything the body shows besides audited data: the page, the user's scope
    and role, the language, the day, the query string. A body holding a form's CSRF token is
    never kept: it is the session's own. `render` may return a `Body` to say whether and until
    when its body may be kept. `wait`: how long a request waits for the body another is
    rendering before it renders its own.
    """

    version = current()
    if version is None or not _keeps():
        return _html(render())
    name = _key(key)
    now = clock.now()
    try:
        body = _read(name, version, now)
        if body is not None:
            return body
        # After a change every request asking for the page would render it at once (each render
        # tens of milliseconds of CPU, queued on the same cores): one renders, the others wait
        # for its body — or render their own if it kept none or took too long.
        lock = f"rendering:{name}:{version}"
        if not pages.add(lock, 1, timeout=int(wait) + 1):
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                time.sleep(RENDER_POLL_S)
                # The lock is looked at before the body: the renderer keeps its body, then lets
                # go of the lock, so a lock seen gone means the body (if kept) is there to read.
                done = not pages.has(lock)
                body = _read(name, version, now)
                if body is not None:
                    return body
                if done:
                    break
            return _html(render())
    except RedisError as exc:  # Redis away: the page renders its own body
        log.warning("page bodies not read from Redis: %s", exc)
        return _html(render())
    try:
        made = render()
        body = _html(made)
        keep = not isinstance(made, Body) or made.keep
        expires_at = made.expires_at if isinstance(made, Body) else None
        if keep and "csrf_token" not in body:
            _store(name, (version, expires_at, str(body)), expires_at, now)
    finally:
        _forget_lock(lock)
    return body


def _html(made: str | Body) -> Markup:
    return Markup(made.html if isinstance(made, Body) else made)  # noqa: S704 - ours, escaped


def _store(name: str, value: tuple, expires_at: datetime | None, now: datetime) -> None:
    timeout = BODY_TTL_S
    if expires_at is not None:
        timeout = max(1, min(timeout, int((expires_at - now).total_seconds()) + 1))
    try:
        pages.set(name, value, timeout=timeout)
    except RedisError as exc:
        log.warning("page body not kept in Redis: %s", exc)


def _forget_lock(lock: str) -> None:
    try:
        pages.delete(lock)
    except RedisError as exc:
        log.warning("render lock not released in Redis (it expires): %s", exc)


def forget_bodies() -> None:
    """Drop every kept body of this app (its database and build)."""
    pages.clear()


def scope_body(user, page: str, render: Callable[[], str | Body], *extra: Hashable) -> Markup:
    """`cached_body` for a page whose body is the same for every user of a scope (region) and
    role: keyed by the page, the user's region and role, the language, the day, the query
    string, and `extra` (whatever else the body shows that the data version does not follow)."""
    from flask import request

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
