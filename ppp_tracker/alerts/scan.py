"""The deadline scan: find the milestones whose reminder day has come, claim each one, create
its alert and the deliveries to its recipients; queue the digests; find lost work.

Services: they flush and never commit; `alerts.jobs` runs them at the edge (beat, CLI) and
commits between batches. Every step is safe against a second scan running at the same time:
the plan row is claimed with a conditional UPDATE that changes exactly one row, and the alert's
unique key (milestone, rule, effective due date) refuses a second copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from ppp_tracker import clock
from ppp_tracker.alerts.audience import chosen_recipients
from ppp_tracker.alerts.delivery import DELIVERIES, DIGESTS
from ppp_tracker.alerts.models import (
    Alert,
    AlertDelivery,
    AlertDigest,
    AlertPlan,
    DeliveryStatus,
)
from ppp_tracker.alerts.planning import rules_by_contract
from ppp_tracker.alerts.rules import AlertRules, Stage
from ppp_tracker.auth.models import AlertMode
from ppp_tracker.core import outbox, versions
from ppp_tracker.core.dates import OPEN_STATUSES
from ppp_tracker.db import db
from ppp_tracker.registry.models import Milestone


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


def scan_batch(as_of: date, *, limit: int = 500) -> BatchResult:
    """One batch of the scan on `as_of`, in a few statements whatever its size: read the due
    plans with their milestones, claim every plan at once (a conditional UPDATE … RETURNING),
    insert the alerts (ON CONFLICT DO NOTHING RETURNING) and their deliveries (INSERT … SELECT,
    the recipients chosen in SQL by `audience.receivable`). Python decides only which reminder
    fires, once per distinct (rules, date) of the batch."""
    rows = _due_facts(as_of, limit)
    result = BatchResult(selected=len(rows))
    if not rows:
        return result
    gone = [row.milestone_id for row in rows if row.found is None]
    if gone:
        # The milestone is gone and the database kept its plan (SQLite without enforced
        # foreign keys): drop the plan, or it would be selected again forever.
        db.session.execute(sa.delete(AlertPlan).where(AlertPlan.milestone_id.in_(gone)))
        result.claimed += len(gone)
    claims, stages = _decide([row for row in rows if row.found is not None], as_of)
    claimed = _claim(claims)
    result.claimed += len(claimed)
    created = insert_alerts(
        [
            [milestone_id, *stages[milestone_id]]
            for milestone_id in sorted(claimed)
            if milestone_id in stages
        ],
        as_of,
        clock.now(),
    )
    if not created:
        return result
    # Pages show the alert log (the deadline lists' last reminder): new alerts move the data
    # version with the batch's commit.
    versions.changed(db.session)
    result.alert_ids = sorted(alert_id for alert_id, _, _ in created)
    made = insert_deliveries(sorted(created), clock.now())
    result.deliveries = len(made)
    result.immediate_ids = sorted(
        delivery_id for delivery_id, mode in made if mode == AlertMode.IMMEDIATE
    )
    return result


def _due_facts(as_of: date, limit: int):
    """The due plans (`due_plans_query`) with their milestones' facts, in one query; `found` is
    None where the milestone is gone."""
    due = due_plans_query(as_of, limit).subquery("due")
    m = Milestone.__table__.c
    return db.session.execute(
        sa.select(
            due.c.milestone_id,
            due.c.next_alert_on,
            due.c.effective_due_on,
            m.id.label("found"),
            m.status,
            m.effective_due_on.label("milestone_due_on"),
            m.contract_id,
        )
        .select_from(due.outerjoin(Milestone.__table__, m.id == due.c.milestone_id))
        .order_by(due.c.next_alert_on, due.c.milestone_id)
    ).all()


def _decide(rows, as_of: date) -> tuple[list[list], dict[int, tuple]]:
    """Each plan's claim (a row of `_CLAIM_KEYS`: what it was, where it moves on to) and the
    reminders to send (milestone -> the rest of its row of `_ALERT_COLUMNS`). The rules are
    asked once per distinct case of the batch: a catch-up has thousands of plans and a few
    dozen due dates."""
    rules = rules_by_contract(row.contract_id for row in rows)
    decided: dict[tuple, tuple] = {}
    claims, stages = [], {}
    for milestone_id, seen_next, seen_effective, _, status, due_on, contract_id in rows:
        # Contracts without rules of their own share one AlertRules (equal, so one key).
        key = (rules[contract_id], status, due_on, seen_effective)
        if key not in decided:
            new_effective, new_next, stage = _move_on(*key, as_of)
            decided[key] = (
                _iso(new_next),
                _iso(new_effective),
                _alert_of(stage, new_effective, as_of),
            )
        new_next, effective, alert = decided[key]
        # Dates go as text: the JSON documents are made without a hook per value.
        claims.append([milestone_id, _iso(seen_next), _iso(seen_effective), new_next, effective])
        if alert is not None:
            stages[milestone_id] = alert
    return claims, stages


def _alert_of(stage: Stage | None, effective: date, as_of: date) -> tuple | None:
    if stage is None:
        return None
    days_left, days_late = max(0, (effective - as_of).days), max(0, (as_of - effective).days)
    return (stage.rule, effective.isoformat(), stage.fire_on.isoformat(), days_left, days_late)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _move_on(rules: AlertRules, status, effective: date | None, planned: date, as_of: date):
    """The plan's new (effective date, next reminder day), and the reminder to send if any."""
    if status not in OPEN_STATUSES or effective is None:
        # The planning hook stops such plans; this only tidies one it could not see.
        return planned, None, None
    if effective != planned:
        # Likewise a plan left on an old date: start it afresh on the milestone's date.
        return effective, rules.first_fire(effective), None
    return effective, rules.next_fire_after(effective, as_of), rules.latest_stage(effective, as_of)


def claim_plans(claims: list[dict], session=None) -> list[int]:
    """Move the plans on, each only if nobody did since we read it, in one statement: the
    milestone ids of the plans this scan moved (claims: dicts of `_CLAIM_KEYS`)."""
    return _claim([[claim[key] for key in _CLAIM_KEYS] for claim in claims], session)


def _claim(rows: list[list], session=None) -> list[int]:
    """`claim_plans` of rows in the order of `_CLAIM_KEYS`. The batch goes as one JSON document,
    so the statement's text is the same whatever its size, and encoding it costs a few
    milliseconds (psycopg's arrays of dates cost about 2 µs a value). On PostgreSQL each row is
    locked through its primary key and rows another scan holds are skipped (it is moving them
    on), so scans never wait on each other or deadlock."""
    if not rows:
        return []
    session = session or db.session
    dialect = session.get_bind().dialect.name
    statement = _CLAIM_POSTGRESQL if dialect == "postgresql" else _CLAIM_SQLITE
    return [row[0] for row in session.execute(statement, {"rows": _json(rows)})]


def _json(rows: list[list]) -> str:
    return json.dumps(rows, default=_json_value, separators=(",", ":"))


def _json_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a scan batch")


_CLAIM_KEYS = ("milestone_id", "seen_next", "seen_effective", "next_alert_on", "effective_due_on")
# Every plan is reached through its primary key, one lookup per row, whatever plan PostgreSQL
# makes: psycopg prepares a statement run five times, and the generic plan of the former claim
# (a join against the whole batch) went quadratic, 1.5 s a batch of 2,000.
_CLAIM_POSTGRESQL = sa.text(
    """
UPDATE alert_plans AS p
   SET next_alert_on = v.next_alert_on, effective_due_on = v.effective_due_on
  FROM (SELECT (e->>0)::int AS milestone_id, (e->>1)::date AS seen_next,
               (e->>2)::date AS seen_effective, (e->>3)::date AS next_alert_on,
               (e->>4)::date AS effective_due_on
          FROM json_array_elements(CAST(:rows AS json)) AS e) AS v
 CROSS JOIN LATERAL (
    SELECT a.milestone_id FROM alert_plans AS a
     WHERE a.milestone_id = v.milestone_id
       AND a.next_alert_on = v.seen_next AND a.effective_due_on = v.seen_effective
       FOR UPDATE SKIP LOCKED) AS mine
 WHERE p.milestone_id = mine.milestone_id
   AND p.next_alert_on = v.seen_next
   AND p.effective_due_on = v.seen_effective
RETURNING p.milestone_id"""
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


def insert_alerts(rows: list[list], as_of: date, now: datetime) -> list[tuple[int, int, str]]:
    """Insert the alerts of the scan on `as_of` (rows of `_ALERT_COLUMNS`, dates as ISO text),
    skipping any that exist (the unique key); (id, milestone, rule) of each one made, in the
    order given. One INSERT … SELECT from a JSON document on both databases."""
    if not rows:
        return []
    table = Alert.__table__
    new = _batch_table("alert_rows", rows, _ALERT_COLUMNS)
    # SQLite reads `INSERT … SELECT … ON CONFLICT` only with a WHERE clause in the SELECT.
    values = sa.select(
        *new.c, sa.literal(as_of, table.c.as_of.type), sa.literal(now, table.c.created_at.type)
    ).where(sa.true())
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .from_select([*_ALERT_COLUMNS, "as_of", "created_at"], values)
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.milestone_id, table.c.rule)
    )
    return [tuple(row) for row in db.session.execute(statement)]


_ALERT_COLUMNS = {
    "milestone_id": "int",
    "rule": "text",
    "effective_due_on": "date",
    "fire_on": "date",
    "days_left": "int",
    "days_late": "int",
}


def insert_deliveries(created: list[tuple[int, int, str]], now: datetime) -> list[tuple[int, str]]:
    """The deliveries of new alerts ((id, milestone, rule) of each) in one INSERT … SELECT, their
    recipients chosen in SQL (`audience.chosen_recipients`); (id, mode) of each delivery."""
    if not created:
        return []
    new = _batch_table("new_alerts", created, {"id": "int", "milestone_id": "int", "rule": "text"})
    chosen = chosen_recipients(new)
    table = AlertDelivery.__table__
    rows = sa.select(
        chosen.c.alert_id,
        chosen.c.user_id,
        chosen.c.reason,
        chosen.c.mode,
        sa.literal(DeliveryStatus.PENDING.value),
        sa.literal(0),
        sa.literal(now, table.c.created_at.type),
    ).order_by(chosen.c.alert_id, chosen.c.rank, chosen.c.user_id)
    statement = table.insert().from_select(
        ["alert_id", "user_id", "reason", "mode", "status", "attempts", "created_at"], rows
    )
    return [tuple(row) for row in db.session.execute(statement.returning(table.c.id, table.c.mode))]


def _batch_table(name: str, rows: list, columns: dict[str, str]) -> sa.Subquery:
    """A batch of rows sent as one JSON document, as a table `name` of `columns` (name: SQL
    type): the statement's text is the same whatever the batch's size, and PostgreSQL reaches
    other tables from it by their keys (a list of ids let it read a growing table whole)."""
    if db.session.get_bind().dialect.name == "postgresql":
        fields = (f"(e->>{i})::{kind} AS {col}" for i, (col, kind) in enumerate(columns.items()))
        source = f"json_array_elements(CAST(:{name} AS json)) AS e"
    else:
        fields = (f"json_extract(value, '$[{i}]') AS {col}" for i, col in enumerate(columns))
        source = f"json_each(:{name})"
    statement = sa.text(f"SELECT {', '.join(fields)} FROM {source}")  # noqa: S608 - our names
    return (
        statement.bindparams(**{name: _json(rows)})
        .columns(*(sa.column(col) for col in columns))
        .subquery(name)
    )


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

    return outbox.stale(DELIVERIES, now, limit), outbox.stale(DIGESTS, now, limit)
