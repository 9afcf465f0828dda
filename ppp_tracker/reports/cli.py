"""`flask ocds export` (the open-data release package of every contract, written to a file) and
`flask dashboard refresh` (what the workers run after each scan)."""

from __future__ import annotations

import time

import click
from flask import current_app

from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db
from ppp_tracker.reports import ocds, snapshots

ocds_cli = click.Group("ocds", help="OCDS open data.")


@ocds_cli.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="File to write (default: standard output).",
)
@click.option("--region", default=None, help="Only this region's contracts (e.g. KZ-35).")
def export(output: str, region: str | None):
    """Write all contracts as one OCDS 1.1 release package (the public form, no contacts)."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    package = ocds.bulk_package(None, f"{base}/open-data/ocds/contracts.json", region=region)
    text = ocds.dumps(package)
    with click.open_file(output, "w", encoding="utf-8") as fh:
        fh.write(text)
    if output != "-":
        click.echo(f"{len(package['releases'])} releases written to {output}", err=True)


dashboard_cli = click.Group("dashboard", help="The dashboard's stored figures.")


@dashboard_cli.command("refresh")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today.")
def refresh(as_of):
    """Compute and store the dashboard's figures of every scope, as the workers do after a scan."""

    start = time.perf_counter()
    with acting_as(Actor("cli:dashboard refresh")):
        count = snapshots.refresh(as_of.date() if as_of else None)
        db.session.commit()
    click.echo(f"{count} scopes refreshed in {time.perf_counter() - start:.1f} s")
