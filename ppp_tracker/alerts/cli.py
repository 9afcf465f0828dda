"""`flask deadlines …`: run the deadline scan by hand, re-plan stored dates."""

from __future__ import annotations

import click

from ppp_tracker.alerts import jobs
from ppp_tracker.alerts.planning import plan_milestone
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import cli_day
from ppp_tracker.db import db
from ppp_tracker.deadlines.tracking import refresh
from ppp_tracker.registry.models import Milestone

deadlines_cli = click.Group("deadlines", help="The deadline scan and its reminders.")


@deadlines_cli.command("scan")
@click.option("--as-of", "as_of", default=None, help="The legal day to scan for (YYYY-MM-DD).")
@click.option(
    "--send-now",
    is_flag=True,
    help="Send the e-mails from this process instead of queueing them for the workers.",
)
def scan(as_of: str | None, send_now: bool):
    """Create the reminders that are due and queue (or send) them."""

    with acting_as(Actor("cli:deadlines scan")):
        run = jobs.run_scan(cli_day(as_of), trigger="cli", send_now=send_now)
    click.echo(
        f"scan as of {run.as_of.isoformat()}: {run.alerts} alerts, {run.deliveries} deliveries, "
        f"{run.digests} digests, {run.requeued} queued again, {run.planned} dates filled in"
        + ("" if send_now else " (e-mails are sent by the workers)")
    )


@deadlines_cli.command("replan")
def replan():
    """Recompute every milestone's stored effective due date and reminder plan."""

    calendar = get_calendar()
    count = 0
    with acting_as(Actor("cli:deadlines replan")):
        for milestone in db.session.scalars(db.select(Milestone).order_by(Milestone.id)):
            refresh(milestone, calendar, notify=False)
            plan_milestone(milestone)
            count += 1
        db.session.commit()
    click.echo(f"{count} milestones planned")
