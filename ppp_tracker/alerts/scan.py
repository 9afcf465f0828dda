"""The deadline scan: find the milestones whose reminder day has come, claim each one, create
its alert and the deliveries to its recipients; queue the digests; find lost work.

Services: they flush and never commit; `alerts.jobs` runs them at the edge (beat, CLI) and
commits between batches. Every step is safe against a second scan running at the same time:
the plan row is claimed with a conditional UPDATE that changes exactly one row, and the alert's
unique key (milestone, rule, effective due date) refuses a second copy.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from ppp_tracker import clock
from ppp_tracker.alerts.audience import may_receive
from ppp_tracker.alerts.models import (
    Alert,
    AlertDelivery,
    AlertDigest,
    AlertPlan,
    DeliveryStatus,
    RecipientReason,
)
from ppp_tracker.alerts.planning import rules_by_contract
from ppp_tracker.alerts.rules import AlertRules, Stage, is_overdue_rule
from ppp_tracker.auth.models import AlertMode, Role, User
from ppp_tracker.core import outbox, versions
from ppp_tracker.core.dates import OPEN_STATUSES
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone


@dataclass
class BatchResult:
    selected: int = 0
    claimed: int = 0
    alert_ids: list[int] = field(default_factory=list)
    deliveries: int = 0
    #: Deliveries to send at once (their users chose immediate e-mails).
    immediate_ids: list[int] = field(default_factory=list)

    @property
    def alerts(self) -> int:
        return len(self.alert_ids)


def due_plans_query(as_of: date, limit: int) -> sa.Select:
    """The plans whose reminder day has come: one range scan of a partial index."""
    plans = AlertPlan.__table__.c
    return (
        sa.select(plans.milestone_id, plans.next_alert_on, plans.effective_due_on)
        .where(plans.next_alert_on.is_not(None), plans.next_alert_on <= as_of)
        .order_by(plans.next_alert_on, plans.milestone_id)
        .limit(limit)
    )


def due_plans(as_of: date, limit: int):
    # Plain rows through the session's connection: no ORM entities are needed to decide.
    return db.session.connection().execute(due_plans_query(as_of, limit)).all()


def recipients(milestone: Milestone, rule: str) -> list[tuple[User, RecipientReason]]:
    """The people a reminder of `milestone` at `rule` goes to (see `choose_recipients`)."""
    contract = milestone.contract
    return choose_recipients(
        milestone.responsible,
        contract.officer,
        contract.region_code,
        rule,
        lambda: managers_of(contract.region_code),
    )


def choose_recipients(
    responsible: User | None,
    officer: User | None,
    region_code: str,
    rule: str,
    managers: Callable[[], list[User]],
) -> list[tuple[User, RecipientReason]]:
    """The responsible officer (or the contract's officer); the region's managers from the first
    overdue reminder on — and always when nobody is responsible, so that no date goes unseen."""
    out: dict[int, tuple[User, RecipientReason]] = {}
    # Each person as they are now (audience.may_receive): one moved to another region, given
    # another role or deactivated is passed over, and the next in line is told instead.
    if may_receive(responsible, region_code, RecipientReason.RESPONSIBLE):
        out[responsible.id] = (responsible, RecipientReason.RESPONSIBLE)
    elif may_receive(officer, region_code, RecipientReason.OFFICER):
        out[officer.id] = (officer, RecipientReason.OFFICER)
    if is_overdue_rule(rule) or not out:
        for manager in managers():
            if may_receive(manager, region_code, RecipientReason.MANAGER):
                out.setdefault(manager.id, (manager, RecipientReason.MANAGER))
    return list(out.values())


def managers_of(region_code: str) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role == Role.MANAGER,
                User.active.is_(True),
                sa.or_(User.region_code.is_(None), User.region_code == region_code),
            )
            .order_by(User.id)
        )
    )


class _People:
    """The users a batch's reminders may go to, read in one query: the milestones' responsible
    officers, the contracts' officers and every active manager."""

    def __init__(self, user_ids: set[int]):
        users = db.session.scalars(
            sa.select(User).where(
                sa.or_(
                    User.id.in_(user_ids),
                    sa.and_(User.role == Role.MANAGER, User.active.is_(True)),
                )
            )
        ).all()
        self.by_id = {user.id: user for user in users}
        self.managers = sorted(
            (u for u in users if u.role == Role.MANAGER and u.active), key=lambda u: u.id
        )

    def managers_of(self, region_code: str) -> list[User]:
        return [m for m in self.managers if m.region_code in (None, region_code)]


def scan_batch(as_of: date, *, limit: int = 500) -> BatchResult:
    """One batch of the scan on `as_of`, in a few statements whatever its size: select the due
    plans, read their milestones, claim every plan at once (a conditional UPDATE … FROM …
    RETURNING), insert the alerts (ON CONFLICT DO NOTHING RETURNING) and their deliveries."""
    rows = due_plans(as_of, limit)
    result = BatchResult(selected=len(rows))
    if not rows:
        return result
    m, c = Milestone.__table__.c, Contract.__table__.c
    facts = {
        row.id: row
        for row in db.session.execute(
            sa.select(
                m.id,
                m.status,
                m.effective_due_on,
                m.contract_id,
                m.responsible_id,
                c.officer_id,
                c.region_code,
            )
            .join_from(Milestone.__table__, Contract.__table__, c.id == m.contract_id)
            .where(m.id.in_([row.milestone_id for row in rows]))
        )
    }
    rules = rules_by_contract(fact.contract_id for fact in facts.values())
    claims: list[dict] = []
    stages: dict[int, Stage] = {}
    gone: list[int] = []
    for row in rows:
        fact = facts.get(row.milestone_id)
        if fact is None:
            # The milestone is gone and the database kept its plan (SQLite without enforced
            # foreign keys): drop the plan, or it would be selected again forever.
            gone.append(row.milestone_id)
            continue
        new_effective, new_next, stage = _move_on(fact, row, rules[fact.contract_id], as_of)
        claims.append(
            {
                "milestone_id": row.milestone_id,
                "seen_next": row.next_alert_on,
                "seen_effective": row.effective_due_on,
                "next_alert_on": new_next,
                "effective_due_on": new_effective,
            }
        )
        if stage is not None:
            stages[row.milestone_id] = stage
    if gone:
        db.session.execute(sa.delete(AlertPlan).where(AlertPlan.milestone_id.in_(gone)))
        result.claimed += len(gone)
    claimed = claim_plans(claims)
    result.claimed += len(claimed)
    new_alerts = [
        {
            "milestone_id": milestone_id,
            "rule": stages[milestone_id].rule,
            "effective_due_on": facts[milestone_id].effective_due_on,
            "fire_on": stages[milestone_id].fire_on,
            "as_of": as_of,
            "days_left": max(0, (facts[milestone_id].effective_due_on - as_of).days),
            "days_late": max(0, (as_of - facts[milestone_id].effective_due_on).days),
            "created_at": clock.now(),
        }
        for milestone_id in claimed
        if milestone_id in stages
    ]
    created = _insert_alerts(new_alerts)
    if not created:
        return result
    # Pages show the alert log (the deadline lists' last reminder): new alerts move the data
    # version with the batch's commit.
    versions.changed(db.session)
    people = _People(
        {facts[mid].responsible_id for _, mid, _ in created}
        | {facts[mid].officer_id for _, mid, _ in created}
    )
    deliveries = []
    for alert_id, milestone_id, rule in sorted(created):
        result.alert_ids.append(alert_id)
        fact = facts[milestone_id]
        chosen = choose_recipients(
            people.by_id.get(fact.responsible_id),
            people.by_id.get(fact.officer_id),
            fact.region_code,
            rule,
            lambda region=fact.region_code: people.managers_of(region),
        )
        deliveries.extend(
            {
                "alert_id": alert_id,
                "user_id": user.id,
                "reason": reason,
                "mode": user.alert_mode,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "created_at": clock.now(),
            }
            for user, reason in chosen
        )
    table = AlertDelivery.__table__
    made = insert_rows(
        table,
        deliveries,
        {
            "alert_id": sa.Integer,
            "user_id": sa.Integer,
            "reason": sa.String,
            "mode": sa.String,
            "status": sa.String,
            "attempts": sa.Integer,
            "created_at": sa.DateTime(timezone=True),
        },
        (table.c.id, table.c.mode),
    )
    result.deliveries += len(made)
    result.immediate_ids.extend(
        delivery_id for delivery_id, mode in sorted(made) if mode == AlertMode.IMMEDIATE
    )
    return result


def _move_on(fact, row, rules: AlertRules, as_of: date):
    """The plan's new (effective date, next reminder day), and the reminder to send if any."""
    effective = fact.effective_due_on
    if fact.status not in OPEN_STATUSES or effective is None:
        # The planning hook stops such plans; this only tidies one it could not see.
        return row.effective_due_on, None, None
    if effective != row.effective_due_on:
        # Likewise a plan left on an old date: start it afresh on the milestone's date.
        return effective, rules.first_fire(effective), None
    return effective, rules.next_fire_after(effective, as_of), rules.latest_stage(effective, as_of)


def claim_plans(claims: list[dict], session=None) -> list[int]:
    """Move the plans on, each only if nobody did since we read it, in one statement: the
    milestone ids of the plans this scan moved. The batch goes as one array per column (one
    JSON document on SQLite), so the statement is the same whatever the batch's size. On
    PostgreSQL each row is locked through its primary key (a lookup per row, never a scan of
    the table) and rows another scan holds are skipped (it is moving them on), so scans never
    wait on each other or deadlock."""
    if not claims:
        return []
    session = session or db.session
    columns = {key: [claim[key] for claim in claims] for key in _CLAIM_KEYS}
    if session.get_bind().dialect.name == "postgresql":
        statement = _CLAIM_POSTGRESQL.bindparams(
            sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer)),
            *(sa.bindparam(key, type_=postgresql.ARRAY(sa.Date)) for key in _CLAIM_KEYS[1:]),
        )
        params = {
            "ids": columns["milestone_id"],
            **{key: columns[key] for key in _CLAIM_KEYS[1:]},
        }
    else:
        statement = _CLAIM_SQLITE
        params = {
            "rows": json.dumps(
                [[claim[key] for key in _CLAIM_KEYS] for claim in claims], default=date.isoformat
            )
        }
    return [row[0] for row in session.execute(statement, params)]


_CLAIM_KEYS = ("milestone_id", "seen_next", "seen_effective", "next_alert_on", "effective_due_on")
_CLAIM_POSTGRESQL = sa.text(
    """
WITH v AS (
  SELECT * FROM unnest(:ids, :seen_next, :seen_effective, :next_alert_on, :effective_due_on)
         AS v (milestone_id, seen_next, seen_effective, next_alert_on, effective_due_on)),
mine AS (
  SELECT p.milestone_id FROM v CROSS JOIN LATERAL (
    SELECT a.milestone_id FROM alert_plans AS a WHERE a.milestone_id = v.milestone_id
       FOR UPDATE SKIP LOCKED) AS p)
UPDATE alert_plans
   SET next_alert_on = v.next_alert_on, effective_due_on = v.effective_due_on
  FROM v JOIN mine ON mine.milestone_id = v.milestone_id
 WHERE alert_plans.milestone_id = ANY(:ids)
   AND alert_plans.milestone_id = v.milestone_id
   AND alert_plans.next_alert_on = v.seen_next
   AND alert_plans.effective_due_on = v.seen_effective
RETURNING alert_plans.milestone_id"""
)
_CLAIM_SQLITE = sa.text(
    """
WITH v AS (
  SELECT json_extract(value, '$[0]') AS milestone_id,
         json_extract(value, '$[1]') AS seen_next,
         json_extract(value, '$[2]') AS seen_effective,
         json_extract(value, '$[3]') AS next_alert_on,
         json_extract(value, '$[4]') AS effective_due_on
    FROM json_each(:rows))
UPDATE alert_plans
   SET next_alert_on = v.next_alert_on, effective_due_on = v.effective_due_on
  FROM v
 WHERE alert_plans.milestone_id = v.milestone_id
   AND alert_plans.next_alert_on = v.seen_next
   AND alert_plans.effective_due_on = v.seen_effective
RETURNING alert_plans.milestone_id"""
)


def _insert_alerts(values: list[dict]) -> list[tuple[int, int, str]]:
    """Insert the alerts, skipping any that exist (unique key); (id, milestone, rule) of each
    one made."""
    table = Alert.__table__
    return insert_rows(
        table,
        values,
        {
            "milestone_id": sa.Integer,
            "rule": sa.String,
            "effective_due_on": sa.Date,
            "fire_on": sa.Date,
            "as_of": sa.Date,
            "days_left": sa.Integer,
            "days_late": sa.Integer,
            "created_at": sa.DateTime(timezone=True),
        },
        (table.c.id, table.c.milestone_id, table.c.rule),
        skip_existing=True,
    )


def insert_rows(table, rows: list[dict], types: dict, returning, *, skip_existing=False):
    """INSERT a batch of rows in one statement, RETURNING `returning` of each row made.

    On PostgreSQL the batch goes as one array per column (INSERT … SELECT … FROM unnest(…)), so
    the statement's text is the same whatever its size: psycopg and the server parse it once,
    not a VALUES list of thousands of parameters. SQLite takes SQLAlchemy's multi-row INSERT.
    """
    if not rows:
        return []
    if db.session.get_bind().dialect.name != "postgresql":
        stmt = sqlite.insert(table)
        if skip_existing:
            stmt = stmt.on_conflict_do_nothing()
        return [tuple(row) for row in db.session.execute(stmt.returning(*returning), rows)]
    names = list(types)
    columns = ", ".join(names)
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    statement = sa.text(
        f"INSERT INTO {table.name} ({columns}) "  # noqa: S608 - names from the table, no values
        f"SELECT * FROM unnest({', '.join(':' + name for name in names)}){conflict} "
        f"RETURNING {', '.join(column.name for column in returning)}"
    ).bindparams(*(sa.bindparam(name, type_=postgresql.ARRAY(types[name])) for name in names))
    params = {
        name: [
            value.value if isinstance(value, enum.Enum) else value
            for value in (row[name] for row in rows)
        ]
        for name in names
    }
    return [tuple(row) for row in db.session.execute(statement, params)]


# --- digests ------------------------------------------------------------------------------


def digest_time(as_of: date, now: datetime) -> bool:
    """Digests of `as_of` go out from ALERT_DIGEST_HOUR local time (at once for a past day)."""
    local = clock.to_local(now)
    return as_of < local.date() or local.hour >= current_app.config["ALERT_DIGEST_HOUR"]


def queue_digests(as_of: date, now: datetime) -> list[int]:
    """Create the day's digest of every user with reminders waiting for one; their ids."""
    if not digest_time(as_of, now):
        return []
    user_ids = db.session.scalars(
        sa.select(AlertDelivery.user_id)
        .where(
            AlertDelivery.status == DeliveryStatus.PENDING,
            AlertDelivery.mode == AlertMode.DIGEST,
            AlertDelivery.digest_id.is_(None),
        )
        .distinct()
    ).all()
    if not user_ids:
        return []
    for user_id in user_ids:
        dialect = db.session.get_bind().dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        db.session.execute(
            module.insert(AlertDigest.__table__)
            .values(
                user_id=user_id,
                digest_on=as_of,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
    db.session.flush()
    return list(
        db.session.scalars(
            sa.select(AlertDigest.id).where(
                AlertDigest.user_id.in_(user_ids),
                AlertDigest.digest_on == as_of,
                AlertDigest.status == DeliveryStatus.PENDING,
            )
        )
    )


# --- lost work ----------------------------------------------------------------------------


def stale_work(now: datetime, limit: int = 1000) -> tuple[list[int], list[int]]:
    """Deliveries and digests whose task was lost or whose worker died: queue them again
    (`core.outbox.stale`); their tasks claim the rows, so a second message does nothing."""
    from ppp_tracker.alerts.delivery import DELIVERIES, DIGESTS

    return outbox.stale(DELIVERIES, now, limit), outbox.stale(DIGESTS, now, limit)
