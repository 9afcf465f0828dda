"""Backups that restore: `flask backup create DIR` and `flask backup restore DIR`.

A backup is a folder: the database (`pg_dump` custom format for PostgreSQL, a copy made with
SQLite's online backup API for the embedded default) and `manifest.json` — what the restore
checks: the file's SHA-256, the schema revision, the rows of every table and the audit chain's
head, all read from the same snapshot as the dump. A restore refuses a damaged or altered file,
restores into an empty database (or, with `--replace`, over one), then counts the rows and
verifies the audit chain against the manifest, and says so.

PostgreSQL's tools must be of the server's major version or newer (`pg_dump` refuses an older
server's newer format); scripts/system-deps.sh installs Debian's `postgresql-client`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ppp_tracker.core.audit_chain import verify
from ppp_tracker.db import db

MANIFEST = "manifest.json"
PG_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done safely; the message says why."""


def _url() -> sa.URL:
    return sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _pg_args(url: sa.URL) -> tuple[list[str], dict]:
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: scripts/system-deps.sh run installs postgresql-client"
        )
    return path


def _check_tool_version(tool: str, connection) -> None:
    server = connection.dialect.server_version_info[0]
    out = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [tool, "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match or int(match.group(1)) < server:
        raise BackupError(
            f"{out.strip()} is older than the server (PostgreSQL {server}): install the "
            f"postgresql-client of version {server} or newer"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _facts(connection) -> dict:
    """The schema revision, the rows of every table and the audit head, as this connection
    sees them."""
    names = sorted(t.name for t in db.metadata.sorted_tables)
    present = set(sa.inspect(connection).get_table_names())
    tables = {
        name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()  # noqa: S608
        for name in names
        if name in present
    }
    revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    head = connection.execute(
        sa.text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")
    ).first()
    return {
        "revision": revision,
        "tables": tables,
        "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
    }


def create(directory: Path) -> dict:
    """Write a backup of the app's database into `directory` (new or empty); its manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new folder")
    directory.mkdir(parents=True, exist_ok=True)
    url = _url()
    if url.get_backend_name() == "postgresql":
        facts, name = _pg_dump(url, directory / PG_FILE), PG_FILE
    elif url.get_backend_name() == "sqlite":
        facts, name = _sqlite_copy(Path(url.database), directory / SQLITE_FILE), SQLITE_FILE
    else:
        raise BackupError(f"no backup for {url.get_backend_name()}")
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": url.get_backend_name(),
        "file": name,
        "bytes": (directory / name).stat().st_size,
        "sha256": _sha256(directory / name),
        **facts,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def _pg_dump(url: sa.URL, target: Path) -> dict:
    tool = _tool("pg_dump")
    args, env = _pg_args(url)
    # The manifest's figures and the dump come from one snapshot: a transaction exports it and
    # stays open while pg_dump reads it.
    with db.engine.connect() as connection:
        _check_tool_version(tool, connection)
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
            facts = _facts(connection)
            done = subprocess.run(  # noqa: S603 - our own arguments, no shell
                [tool, *args, "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                 "--file", str(target), url.database],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[-2000:]}")
    return facts


def _sqlite_copy(source: Path, target: Path) -> dict:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)  # the online backup API: a consistent copy while the app writes
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return _facts(connection)
    finally:
        engine.dispose()


def read_manifest(directory: Path) -> dict:
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{directory} holds no readable {MANIFEST}: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("file") not in (PG_FILE, SQLITE_FILE):
        raise BackupError(f"{directory / MANIFEST} is not a backup manifest of this app")
    path = directory / manifest["file"]
    if not path.is_file() or _sha256(path) != manifest.get("sha256"):
        raise BackupError(f"{path} is missing or not the file that was backed up (SHA-256)")
    return manifest


def restore(directory: Path, *, replace: bool = False) -> dict:
    """Restore the backup in `directory` into the app's database; what was checked after."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    url = _url()
    if url.get_backend_name() != manifest["database"]:
        raise BackupError(
            f"the backup is of {manifest['database']}, the app's database is "
            f"{url.get_backend_name()}"
        )
    db.session.remove()
    with db.engine.connect() as connection:
        existing = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    if existing and not replace:
        raise BackupError(
            f"the database is not empty ({len(existing)} tables): restore into a new database, "
            "or pass --replace to overwrite this one"
        )
    if manifest["database"] == "postgresql":
        _pg_restore(url, directory / manifest["file"], replace=replace)
    else:
        db.engine.dispose()
        with (
            closing(sqlite3.connect(directory / manifest["file"])) as src,
            closing(sqlite3.connect(url.database)) as dst,
        ):
            src.backup(dst)
    db.engine.dispose()
    with db.engine.begin() as connection:
        facts = _facts(connection)
        # Kept page bodies are keyed by the data version: a restored (older) version must not
        # meet bodies cached for that number before the restore.
        connection.execute(
            sa.text("UPDATE data_versions SET version = :v WHERE id = 1"),
            {"v": secrets.randbits(62)},
        )
    with db.engine.connect() as connection:
        verdict = verify(connection)
    problems = []
    if facts["revision"] != manifest["revision"]:
        problems.append(f"schema {facts['revision']} instead of {manifest['revision']}")
    differing = {
        name: (facts["tables"].get(name), count)
        for name, count in manifest["tables"].items()
        if facts["tables"].get(name) != count
    }
    if differing:
        problems.append(f"rows differ (restored, backed up): {differing}")
    if not verdict.ok:
        problems.append(f"audit chain broken at link {verdict.broken_seq}: {verdict.reason}")
    elif manifest["audit_head"] and verdict.head != manifest["audit_head"]["hash"]:
        problems.append("the audit chain's head is not the one backed up")
    if problems:
        raise BackupError("restored, but: " + "; ".join(problems))
    return {**facts, "audit_links": verdict.links}


def _pg_restore(url: sa.URL, dump: Path, *, replace: bool) -> None:
    tool = _tool("pg_restore")
    args, env = _pg_args(url)
    with db.engine.connect() as connection:
        _check_tool_version(tool, connection)
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if replace:
        options += ["--clean", "--if-exists"]
    done = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [tool, *args, *options, "--dbname", url.database, str(dump)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[-2000:]}")


backup_cli = click.Group("backup", help="Back up and restore the database.")


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def create_command(directory: Path) -> None:
    """Write a backup (database and manifest) into DIRECTORY, a new or empty folder."""
    try:
        manifest = create(directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = sum(manifest["tables"].values())
    head = manifest["audit_head"] or {"seq": 0, "hash": "-"}
    click.echo(
        f"backup of {manifest['database']} in {directory}: {manifest['bytes']} bytes, "
        f"{rows} rows, schema {manifest['revision']}, audit head {head['seq']} {head['hash']}"
    )


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database that is not empty.")
@with_appcontext
def restore_command(directory: Path, replace: bool) -> None:
    """Restore the backup in DIRECTORY into the app's database, then check it."""
    try:
        facts = restore(directory, replace=replace)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"restored {directory}: {sum(facts['tables'].values())} rows as backed up, schema "
        f"{facts['revision']}, audit chain OK ({facts['audit_links']} links)"
    )
