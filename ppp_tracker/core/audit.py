"""The audit trail: every insert, update and delete of an audited model becomes an AuditEvent.

It hooks the session's flush, so no service can forget it: whatever changes a row — a page, the
API, a worker, the CLI — leaves who, when, and the old and new values.
"""

from __future__ import annotations

import contextvars
import enum
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event, insert
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, object_mapper

from ppp_tracker.core.versions import changed
from ppp_tracker.db import UTCDateTime, db, utcnow


@dataclass(frozen=True)
class Actor:
    """Who is changing things: a user, or a named system process (worker, CLI)."""

    label: str
    user_id: int | None = None


SYSTEM = Actor("system")
_current_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current_actor.get()


def set_actor(actor: Actor) -> contextvars.Token:
    return _current_actor.set(actor)


@contextmanager
def acting_as(actor: Actor):
    token = _current_actor.set(actor)
    try:
        yield actor
    finally:
        _current_actor.reset(token)


class Audited:
    """Marker mixin: changes to this model are written to the audit log.

    `__audit_exclude__` names columns whose values are not copied (secrets, file bytes); their
    change is still recorded, as "(changed)". `__audit_ignore__` names bookkeeping columns whose
    changes alone are no event (a worker's heartbeat and progress counter).
    Many-to-many collections are recorded as the ids of their members, before and after.
    """

    __audit_exclude__: tuple[str, ...] = ()
    __audit_ignore__: tuple[str, ...] = ()


def _keep_old_value(target, value, oldvalue, initiator):
    return value


@event.listens_for(Audited, "mapper_configured", propagate=True)
def _load_old_values(mapper, cls) -> None:
    """An audited column set on an expired object (after a commit) loads its old value first,
    so the log says what it was, not `null`."""
    for prop in mapper.column_attrs:
        event.listen(getattr(cls, prop.key), "set", _keep_old_value, active_history=True)


class AuditLogIsReadOnly(Exception):
    """Something tried to change or delete a row of the audit log."""


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"({len(value)} bytes)"
    return str(value)


def _column_attrs(obj):
    mapper = object_mapper(obj)
    return [prop.key for prop in mapper.column_attrs]


def _pk(obj) -> str:
    # In after_flush the identity key is not set yet; the mapper reads the primary key columns.
    values = object_mapper(obj).primary_key_from_instance(obj)
    return ",".join("" if part is None else str(_plain(part)) for part in values)


def _region_of(obj) -> str | None:
    try:
        value = getattr(obj, "region_code", None)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _ids(objects) -> list:
    return sorted(_pk(o) for o in objects if o is not None)


def _collection_changes(obj, *, mode: str) -> dict:
    """Many-to-many collections (a case's claims): the member ids before and after."""
    changes: dict[str, list] = {}
    for prop in object_mapper(obj).relationships:
        if prop.secondary is None:
            continue
        history = attributes.get_history(obj, prop.key, passive=attributes.PASSIVE_NO_INITIALIZE)
        if mode == "create":
            if history.added:
                changes[prop.key] = [None, _ids(history.added)]
        elif mode == "update" and (history.added or history.deleted):
            after = _ids([*history.unchanged, *history.added])
            before = _ids([*history.unchanged, *history.deleted])
            if before != after:
                changes[prop.key] = [before, after]
    return changes


def _changes(obj, *, mode: str) -> dict:
    excluded = set(getattr(obj, "__audit_exclude__", ()))
    ignored = set(getattr(obj, "__audit_ignore__", ()))
    state = sa.inspect(obj)
    changes: dict[str, list] = {}
    for key in _column_attrs(obj):
        # Bookkeeping of every model: the times, and `search_text` (core.folding's folded copy
        # of the searched columns, whose own changes are recorded).
        if key in {"created_at", "updated_at", "search_text"} or key in ignored:
            continue
        if mode == "create":
            if key in excluded:
                continue
            value = state.dict.get(key)
            if value is not None:
                changes[key] = [None, _plain(value)]
        elif mode == "delete":
            if key in excluded:
                continue
            value = state.dict.get(key)
            if value is not None:
                changes[key] = [_plain(value), None]
        else:
            history = attributes.get_history(obj, key, passive=attributes.PASSIVE_NO_INITIALIZE)
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new:
                continue
            if key in excluded:
                changes[key] = ["(changed)", "(changed)"]
            else:
                changes[key] = [_plain(old), _plain(new)]
    changes.update(_collection_changes(obj, mode=mode))
    return changes


class AuditEvent(db.Model):
    """Who changed what and when, with old and new values. Written only by the flush hook."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: The actor's e-mail, or "worker:<task>" / "cli:<command>" for system changes.
    actor: Mapped[str] = mapped_column(sa.String(255))
    action: Mapped[str] = mapped_column(sa.String(16))
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    region_code: Mapped[str | None] = mapped_column(sa.String(8), index=True)
    #: {column: [old, new]}
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    def __repr__(self) -> str:
        return (
            f"<AuditEvent {self.id} {self.actor} {self.action} {self.entity_type}#{self.entity_id}>"
        )


#: session.info key: ids of the audit events this transaction wrote, to chain at its commit.
PENDING_AUDIT_IDS = "audit_event_ids"


def _entity_name(obj) -> str:
    return type(obj).__tablename__


@event.listens_for(Session, "after_flush")
def _write_audit_events(session: Session, flush_context) -> None:
    actor = current_actor()
    rows = []
    at = utcnow()
    for mode, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            if mode == "update" and not session.is_modified(obj):
                continue
            changes = _changes(obj, mode=mode)
            if mode == "update" and not changes:
                continue
            rows.append(
                {
                    "at": at,
                    "actor_id": actor.user_id,
                    "actor": actor.label,
                    "action": mode,
                    "entity_type": _entity_name(obj),
                    "entity_id": _pk(obj),
                    "region_code": _region_of(obj),
                    "changes": changes,
                }
            )
    if rows:
        table = AuditEvent.__table__
        written = session.connection().execute(insert(table).returning(table.c.id), rows)
        # Chained when the transaction commits (core.audit_chain), under the chain's lock.
        session.info.setdefault(PENDING_AUDIT_IDS, []).extend(written.scalars())
        # What pages show changed: the data version moves with the commit (core.versions).
        changed(session)


def record_action(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    region_code: str | None = None,
    changes: dict | None = None,
) -> None:
    """One audit event for an action that changes no audited row itself (recomputing the
    dashboard's figures…), by the current actor, written with the caller's transaction."""
    actor = current_actor()
    session.connection().execute(
        insert(AuditEvent.__table__),
        [
            {
                "at": utcnow(),
                "actor_id": actor.user_id,
                "actor": actor.label,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "region_code": region_code,
                "changes": changes or {},
            }
        ],
    )
    changed(session)


# --- the log cannot be changed -----------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    """Audit rows are written by the hook above only (a Core insert); the ORM never changes or
    deletes one. (PostgreSQL refuses it too, with a trigger: migration security_01.)"""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsReadOnly(f"the audit log cannot be changed ({obj!r})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_audit_statements(state) -> None:
    """No `update(AuditEvent)` / `delete(AuditEvent)` through the session either."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_arguments.get("mapper")
    if mapper is not None and (
        issubclass(mapper.class_, Audited) or getattr(mapper.class_, "__moves_data_version__", 0)
    ):
        # A bulk statement on audited rows (a conditional claim) or on derived data that pages
        # show (a snapshot's charts): the data version moves too.
        changed(state.session)
    if state.is_insert:
        return
    table = getattr(state.statement, "table", None)
    if (mapper is not None and mapper.class_ is AuditEvent) or (
        table is not None and getattr(table, "name", None) == AuditEvent.__tablename__
    ):
        raise AuditLogIsReadOnly("the audit log cannot be changed")
