"""`flask users …`: create users and issue API tokens from the command line."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app

from ppp_tracker.auth import services
from ppp_tracker.auth.models import Role, User
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db

users_cli = click.Group("users", help="Users and API tokens.")

#: The demo users `make run` creates, one per role; the password is printed on the console.
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed on purpose, demo data only
DEMO_USERS = (
    ("admin@demo.kz", Role.ADMIN, None, "Администратор системы"),
    ("manager@demo.kz", Role.MANAGER, None, "Руководитель Комитета УИС"),
    ("officer@demo.kz", Role.OFFICER, "KZ-35", "Ответственный ДУИС по Карагандинской области"),
    ("legal@demo.kz", Role.LEGAL, "KZ-35", "Юрист ДУИС по Карагандинской области"),
    ("viewer@demo.kz", Role.VIEWER, None, "Аудитор"),
)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--region", "region", default=None, help="Region code, e.g. KZ-35; none = all.")
@click.option("--password", default=None, help="Generated and printed when omitted.")
@click.option("--name", default=None)
def create_user(email: str, role: str, region: str | None, password: str | None, name):
    """Create a user with a role and, optionally, a region."""
    with acting_as(Actor("cli:users create")):
        try:
            user, generated = services.create_user(
                email, role=role, region_code=region, password=password, name=name
            )
        except Invalid as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    click.echo(f"created {user.email} ({user.role}, region {user.region_code or 'all'})")
    if generated:
        click.echo(f"password: {generated}")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="A label to tell tokens apart.")
def create_token(email: str, name: str):
    """Print a new API token for the user."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(f"no active user {email}")
    with acting_as(Actor("cli:users token")):
        token = services.issue_token(user, name)
        db.session.commit()
    click.echo(token)


@users_cli.command("revoke-tokens")
@click.argument("email")
@click.option("--prefix", default=None, help="Only the token starting with this (ppp_…).")
def revoke_tokens(email: str, prefix: str | None):
    """Revoke the user's API tokens (all, or the one with the prefix)."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    with acting_as(Actor("cli:users revoke-tokens")):
        count = services.revoke_tokens(user, prefix)
        db.session.commit()
    click.echo(f"revoked {count} token(s) of {user.email}")


def ensure_demo_users() -> list[tuple[str, str, str | None]]:
    """Create the demo users that do not exist yet; returns (email, role, region) of each.
    Refused in production: their password is printed and in the repository."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException(
            "refused in production (PPP_ENV=production): the demo users' password is public; "
            "create real users with `flask users create`"
        )
    rows = []
    for email, role, region, name in DEMO_USERS:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
            services.create_user(
                email, role=role.value, region_code=region, password=DEMO_PASSWORD, name=name
            )
        rows.append((email, role.value, region))
    return rows


@users_cli.command("demo")
def demo_users():
    """Create one demo user per role (idempotent) and print their logins."""
    with acting_as(Actor("cli:users demo")):
        rows = ensure_demo_users()
        db.session.commit()
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, role, region in rows:
        click.echo(f"  {email:<20} {role:<8} region {region or 'all'}")
