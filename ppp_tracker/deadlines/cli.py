"""`flask calendar …`: the working-day calendar's overrides from the command line."""

from __future__ import annotations

from datetime import date

import click

from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.deadlines import services
from ppp_tracker.deadlines.calendar import get_calendar

calendar_cli = click.Group("calendar", help="The working-day calendar.")


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from exc


@calendar_cli.command("override")
@click.argument("day")
@click.argument("kind", type=click.Choice(["working", "off"]))
@click.option("--reason", default=None, help="The decree, e.g. 'Постановление № 123'.")
def override(day: str, kind: str, reason: str | None):
    """Make DAY a working day or a day off (a decree the holidays package does not know)."""
    parsed = _parse_day(day)
    with acting_as(Actor("cli:calendar override")):
        try:
            services.set_override(parsed, kind == "working", reason)
        except Invalid as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    click.echo(f"{parsed.isoformat()} is now a {'working day' if kind == 'working' else 'day off'}")


@calendar_cli.command("show")
@click.argument("day")
def show(day: str):
    """Say whether DAY is a working day, and why not."""
    parsed = _parse_day(day)
    calendar = get_calendar()
    if calendar.is_working_day(parsed):
        why = calendar.why_working(parsed)
        click.echo(f"{parsed.isoformat()}: working day" + (f" ({why})" if why else ""))
    else:
        click.echo(f"{parsed.isoformat()}: day off ({calendar.why_not_working(parsed)})")
