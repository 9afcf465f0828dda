"""`flask calendar …`: the working-day calendar's overrides from the command line."""

from __future__ import annotations

import click

from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import cli_day
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.deadlines import services, years

calendar_cli = click.Group("calendar", help="The working-day calendar.")


@calendar_cli.command("override")
@click.argument("day")
@click.argument("kind", type=click.Choice(["working", "off"]))
@click.option("--reason", default=None, help="The decree, e.g. 'Постановление № 123'.")
def override(day: str, kind: str, reason: str | None):
    """Make DAY a working day or a day off (a decree the holidays package does not know)."""
    parsed = cli_day(day)
    with acting_as(Actor("cli:calendar override")):
        try:
            services.set_override(parsed, kind == "working", reason)
        except Invalid as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    click.echo(f"{parsed.isoformat()} is now a {'working day' if kind == 'working' else 'day off'}")


@calendar_cli.command("confirm")
@click.argument("year", type=int)
def confirm(year: int):
    """Confirm that YEAR's decree transfers are entered (dates in it stop saying otherwise)."""
    with acting_as(Actor("cli:calendar confirm")):
        try:
            _row, new = years.confirm_year(year, actor="cli:calendar confirm")
        except Invalid as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    click.echo(f"{year} is confirmed" if new else f"{year} was already confirmed")


@calendar_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_file(file: str):
    """Enter the decree transfers of a CSV file: rows `date,working|off,reason` (YYYY-MM-DD or
    DD.MM.YYYY; a header row may come first). All rows or none: errors name their rows."""
    with open(file, "rb") as fh:
        content = fh.read()
    with acting_as(Actor("cli:calendar import")):
        try:
            transfers = years.import_transfers(content)
        except Invalid as exc:
            db.session.rollback()
            lines = [m for ms in exc.errors.values() for m in ms]
            raise click.ClickException("nothing imported:\n" + "\n".join(lines)) from exc
        db.session.commit()
    covered = sorted({t.day.year for t in transfers})
    click.echo(
        f"imported {len(transfers)} transfers ({', '.join(map(str, covered))}); "
        "confirm a year with `flask calendar confirm YEAR` once all its transfers are in"
    )


@calendar_cli.command("show")
@click.argument("day")
def show(day: str):
    """Say whether DAY is a working day, and why not."""
    parsed = cli_day(day)
    calendar = get_calendar()
    if calendar.is_working_day(parsed):
        why = calendar.why_working(parsed)
        click.echo(f"{parsed.isoformat()}: working day" + (f" ({why})" if why else ""))
    else:
        click.echo(f"{parsed.isoformat()}: day off ({calendar.why_not_working(parsed)})")
