"""`flask claims …`: run the claims scan by hand, look at the outgoing-number counter."""

from __future__ import annotations

import click

from ppp_tracker import clock
from ppp_tracker.claims import numbering, scanning
from ppp_tracker.claims.tasks import queue_notices
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.core.dates import cli_day
from ppp_tracker.db import db

claims_cli = click.Group("claims", help="Claim letters and their escalation.")


@claims_cli.command("scan")
@click.option("--as-of", "as_of", default=None, help="The day to scan as of (YYYY-MM-DD).")
@click.option(
    "--notify/--no-notify",
    default=True,
    help="Queue the e-mails to legal staff for the workers (default) or not.",
)
def scan(as_of: str | None, notify: bool):
    """Draft claims for late obligations and escalate unanswered ones, as the workers do."""
    day = cli_day(as_of) if as_of else clock.today()
    with acting_as(Actor("cli:claims scan")):
        result = scanning.scan(day)
        db.session.commit()
    if notify:
        queue_notices(result.notices)
    click.echo(
        f"as of {day.isoformat()}: drafted {len(result.drafted)}, escalated "
        f"{len(result.escalated)}, lawsuits recommended {len(result.flagged)}, "
        f"e-mails {'queued' if notify else 'not queued'} {len(result.notices)}"
    )


@claims_cli.command("numbering")
def show_numbering():
    """The department's prefix and the last outgoing number used."""
    prefix = numbering.department_prefix()
    counter = (
        f" (restarts every 1 January; counter of {clock.today().year})"
        if numbering.restarts_yearly()
        else ""
    )
    click.echo(f"{prefix}: last used {prefix}-{numbering.last_used(prefix)}{counter}")
