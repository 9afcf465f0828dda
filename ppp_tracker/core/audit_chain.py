"""The audit log made tamper-evident: every audit event is a link of one hash chain.

Each committed audit event gets a link (`audit_links`): its place in the chain (`seq`), the hash
of the link before it and its own hash, SHA-256 over that previous hash and a canonical
serialisation of every field of the event. The head (`audit_chain_head`, one row) names the last
link. Changing, deleting or inserting an event, or a link, anywhere — even the last ones — breaks
the chain where it happened; `flask audit verify` walks it and names the first broken link.

The links of a transaction's events are written when it commits (`before_commit`), under a row
lock on the head taken there: commits that write audit events chain one after the other, so the
chain is linear whatever runs concurrently, and the lock is held for the commit only, not for a
long transaction (an import, a scan). Events rolled back with a savepoint are not chained (they do
not exist). What the chain cannot catch alone is someone who rewrites the database and the whole
chain after the event: `verify` prints the head's hash; kept elsewhere (the backups, a log), it
pins the chain up to then.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ppp_tracker.core.audit import PENDING_AUDIT_IDS, AuditEvent
from ppp_tracker.db import db

#: The hash "before" the first link.
GENESIS = "0" * 64
_BATCH = 1000


class AuditLink(db.Model):
    """One audit event's place in the chain. Append-only, like the log (PostgreSQL trigger)."""

    __tablename__ = "audit_links"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    #: The event (no foreign key: the log's own triggers answer any attempt to remove an event,
    #: and `verify` names a link whose event is gone).
    event_id: Mapped[int] = mapped_column(sa.Integer, unique=True)
    #: The hash of the link before (GENESIS for the first).
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    #: sha256(prev_hash, seq, the event's canonical form), hex.
    hash: Mapped[str] = mapped_column(sa.String(64))

    def __repr__(self) -> str:
        return f"<AuditLink {self.seq} event {self.event_id} {self.hash[:12]}>"


class AuditChainHead(db.Model):
    """The last link of the chain (one row, id 1): locked by each commit that adds links."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))


# --- the canonical form and the hash (never change these: old links would no longer verify) ---

EVENT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "region_code",
    "changes",
)


def canonical(row) -> bytes:
    """An event as bytes: its fields as read from the database, in JSON with sorted keys, no
    spaces, UTF-8, the time in ISO 8601 UTC with microseconds."""
    fields = {name: getattr(row, name) for name in EVENT_COLUMNS}
    fields["at"] = fields["at"].isoformat(timespec="microseconds") if fields["at"] else None
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def link_hash(prev_hash: str, seq: int, row) -> str:
    digest = hashlib.sha256()
    digest.update(f"{prev_hash}\n{seq}\n".encode("ascii"))
    digest.update(canonical(row))
    return digest.hexdigest()


def _events(connection, ids: list[int]) -> Iterator:
    table = AuditEvent.__table__
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        yield from connection.execute(
            sa.select(*[table.c[name] for name in EVENT_COLUMNS])
            .where(table.c.id.in_(chunk))
            .order_by(table.c.id)
        )


def _locked_head(connection) -> tuple[int, str]:
    head = AuditChainHead.__table__
    row = connection.execute(
        sa.select(head.c.seq, head.c.hash).where(head.c.id == 1).with_for_update()
    ).first()
    if row is not None:
        return row.seq, row.hash
    # Made by the migration; a database emptied since (the tests) starts a new chain. Two
    # first commits racing: the loser waits for the winner's row, then reads it.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    connection.execute(
        insert(head).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"])
    )
    return _locked_head(connection)


def append_links(connection, event_ids: Iterable[int]) -> int:
    """Chain these events (those that exist, in id order) after the head; returns how many.
    The caller's transaction holds the head's lock until it ends."""
    ids = sorted(set(event_ids))
    if not ids:
        return 0
    seq, prev = _locked_head(connection)
    links = []
    for row in _events(connection, ids):
        seq += 1
        digest = link_hash(prev, seq, row)
        links.append({"seq": seq, "event_id": row.id, "prev_hash": prev, "hash": digest})
        prev = digest
    if not links:
        return 0
    table = AuditLink.__table__
    for start in range(0, len(links), _BATCH):
        connection.execute(sa.insert(table), links[start : start + _BATCH])
    head = AuditChainHead.__table__
    connection.execute(sa.update(head).where(head.c.id == 1).values(seq=seq, hash=prev))
    return len(links)


@event.listens_for(Session, "before_commit")
def _chain_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the links come with the real COMMIT
    session.flush()  # the audit hook writes the last events in this flush
    ids = session.info.pop(PENDING_AUDIT_IDS, None)
    if ids:
        append_links(session.connection(), ids)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING_AUDIT_IDS, None)


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    links: int
    head: str
    #: None when the chain holds; else the first broken link and why.
    broken_seq: int | None = None
    broken_event: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def verify(connection) -> Verdict:
    """Walk the chain from its first link: each link's previous hash, its number, its event's
    hash; then the head, and events that no link names."""
    links = AuditLink.__table__
    events = AuditEvent.__table__
    columns = [events.c[name] for name in EVENT_COLUMNS]
    stmt = (
        sa.select(
            links.c.seq,
            links.c.event_id,
            links.c.prev_hash,
            links.c.hash,
            events.c.id.label("found"),
            *[c.label(f"e_{c.name}") for c in columns],
        )
        .outerjoin(events, events.c.id == links.c.event_id)
        .order_by(links.c.seq)
        .execution_options(yield_per=_BATCH)
    )
    seq, prev, count = 0, GENESIS, 0

    def broken(row, why: str) -> Verdict:
        return Verdict(count, prev, row.seq, row.event_id, why)

    for row in connection.execute(stmt):
        if row.seq != seq + 1:
            return broken(row, f"link {seq + 1} is missing (the next is {row.seq})")
        if row.prev_hash != prev:
            return broken(row, "its previous hash is not the hash of the link before")
        if row.found is None:
            return broken(row, f"its event {row.event_id} is gone")
        event_row = _Row({name: getattr(row, f"e_{name}") for name in EVENT_COLUMNS})
        if link_hash(prev, row.seq, event_row) != row.hash:
            return broken(row, f"event {row.event_id} is not what was written")
        seq, prev, count = row.seq, row.hash, count + 1
    return _head_problem(connection, count, seq, prev) or _loose_events(connection, count, prev)


def _head_problem(connection, count: int, seq: int, prev: str) -> Verdict | None:
    """The head must name the last link walked: else links were removed from the end."""
    head = connection.execute(
        sa.select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)
    ).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if (head_seq, head_hash) == (seq, prev):
        return None
    return Verdict(
        count,
        prev,
        seq + 1,
        None,
        f"the head names link {head_seq}, the chain ends at link {seq}: links were removed"
        if head_seq > seq
        else "the head does not match the last link",
    )


def _loose_events(connection, count: int, prev: str) -> Verdict:
    """Every event must be in a link: one in none was written around the app."""
    links = AuditLink.__table__
    events = AuditEvent.__table__
    loose = connection.execute(
        sa.select(sa.func.count(), sa.func.min(events.c.id))
        .select_from(events.outerjoin(links, links.c.event_id == events.c.id))
        .where(links.c.seq.is_(None))
    ).first()
    if loose[0]:
        return Verdict(
            count,
            prev,
            None,
            loose[1],
            f"{loose[0]} event(s) are in no link (the first: {loose[1]}): written around the app",
        )
    return Verdict(count, prev)


class _Row:
    def __init__(self, values: dict):
        self.__dict__.update(values)


audit_cli = click.Group("audit", help="The audit log's hash chain.")


@audit_cli.command("verify")
@with_appcontext
def verify_command() -> None:
    """Walk the chain; name the first broken link (exit status 1), or print the head's hash."""
    with db.engine.connect() as connection:
        verdict = verify(connection)
    if verdict.ok:
        click.echo(f"audit chain OK: {verdict.links} events, head {verdict.head}")
        return
    where = f"link {verdict.broken_seq}" if verdict.broken_seq is not None else "the log"
    if verdict.broken_event is not None:
        where += f" (audit event {verdict.broken_event})"
    click.echo(
        f"audit chain BROKEN at {where}: {verdict.reason}; "
        f"{verdict.links} links before it hold (last good hash {verdict.head})",
        err=True,
    )
    raise SystemExit(1)
