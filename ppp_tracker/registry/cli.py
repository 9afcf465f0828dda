"""`flask demo load`: the article's facts plus generated, clearly marked production sites."""

from __future__ import annotations

import click

from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db
from ppp_tracker.registry import demo

demo_cli = click.Group("demo", help="Demo data.")

#: Other features add their part of the demo (claims, cases…): name -> fn() -> dict of counts.
DEMO_EXTENSIONS: dict = {}


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when already loaded.")
def load(if_empty: bool):
    """Load the demo data (DESIGN.md section 2) in one transaction."""
    if demo.is_loaded():
        if if_empty:
            click.echo("demo data already loaded")
            return
        raise click.ClickException("the demo data is already loaded")
    with acting_as(Actor("cli:demo load")):
        counts = demo.load()
        for extend in DEMO_EXTENSIONS.values():
            counts.update(extend())
        db.session.commit()
    click.echo("demo data loaded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
