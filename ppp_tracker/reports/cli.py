"""`flask ocds export`: the open-data release package of every contract, written to a file."""

from __future__ import annotations

import click
from flask import current_app

from ppp_tracker.reports import ocds

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
