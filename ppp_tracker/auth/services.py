"""Users, passwords, login throttling and API tokens: plain functions that flush, never commit."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ppp_tracker import clock
from ppp_tracker.auth.models import ApiToken, LoginThrottle, Role, User, hash_token
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.regions import Region
from ppp_tracker.core.validation import invisible_problem
from ppp_tracker.db import db

MIN_PASSWORD_LENGTH = 10


class Throttled(Exception):
    """Too many failed logins for this e-mail or address; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"throttled for {retry_after} s")
        self.retry_after = retry_after


def normalise_email(raw: str) -> str:
    # Imported when first needed: it compiles the RFC's patterns on import (about 20 ms of
    # every process's start, workers and beat included, which never read an address typed in).
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid({"email": [_("Not a valid e-mail address.")]}) from exc


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid({field: [_("At least %(n)d characters, please.", n=MIN_PASSWORD_LENGTH)]})


def create_user(
    email: str,
    *,
    role: str,
    name: str | None = None,
    region_code: str | None = None,
    password: str | None = None,
    locale: str = "ru",
    position: str | None = None,
) -> tuple[User, str | None]:
    """A new user; returns the user and the generated password when none was given."""
    errors: dict[str, list[str]] = {}
    try:
        email = normalise_email(email)
    except Invalid as exc:
        errors.update(exc.errors)
    else:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
            errors["email"] = [_("A user with this e-mail already exists.")]
    for field, value in (("name", name), ("position", position)):
        problem = invisible_problem(value)
        if problem:
            errors[field] = [problem]
    if role not in {r.value for r in Role}:
        errors["role"] = [_("Unknown role. Choose one of: %(roles)s.", roles=", ".join(Role))]
    if region_code is not None and db.session.get(Region, region_code) is None:
        errors["region"] = [_("Unknown region code.")]
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(12)
    else:
        try:
            check_password_rules(password)
        except Invalid as exc:
            errors.update(exc.errors)
    if errors:
        raise Invalid(errors)
    user = User(
        email=email,
        name=name or email.split("@")[0],
        role=Role(role),
        region_code=region_code,
        locale=locale,
        position=position,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, generated


# --- login throttling ---------------------------------------------------------------------
#
# Counted per account *and* address, so that a stranger's failures slow an account down without
# locking its owner out:
#   - "pair:<e-mail> <address>": LOGIN_MAX_FAILURES failures of one account from one address
#     lock that address out of that account for the window;
#   - "address:<address>": 4 × as many from one address, whatever the e-mails (one guesser
#     trying many accounts; an office behind one address gets the room of four);
#   - "account:<e-mail>": failures from every address; once an account has had
#     LOGIN_MAX_FAILURES in the window it is under attack, and each address gets one try at it
#     per window — the owner, from an address without failures, still gets in.
# Each attempt *reserves* its place with one conditional INSERT … ON CONFLICT DO UPDATE …
# WHERE failures < limit before the password is checked (committed at once, on a connection of
# its own), so 30 parallel guesses cannot all pass a check that none of them has counted yet; a
# right password gives its reservation back.


def _throttle_engine():
    """Connections of their own for the counters, outside the app's pool: a request already
    holds one of the pool's connections, and a burst of logins each waiting for a second one
    would wait for each other until the pool's timeout (seen: 30 parallel logins, pool of 15)."""
    engine = current_app.extensions.get("ppp_tracker.login_throttle")
    if engine is None:
        engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
        current_app.extensions["ppp_tracker.login_throttle"] = engine
    return engine


def _throttle_limits(email: str, ip: str | None) -> dict[str, int]:
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    email = email.strip().lower()
    under_attack = _failures(f"account:{email}") >= limit
    keys = {f"pair:{email} {ip or '-'}": 1 if under_attack else limit}
    if ip:
        keys[f"address:{ip}"] = limit * 4
    return keys


def _window() -> tuple[datetime, datetime]:
    now = clock.now()
    return now, now - timedelta(seconds=current_app.config["LOGIN_THROTTLE_SECONDS"])


def _failures(key: str) -> int:
    _now, since = _window()
    with _throttle_engine().connect() as conn:
        row = conn.execute(
            sa.select(LoginThrottle.failures).where(
                LoginThrottle.key == key, LoginThrottle.window_start > since
            )
        ).first()
    return row[0] if row else 0


def _upsert(conn, key: str, limit: int | None) -> bool:
    """Count one more failure of `key` in its window (a new window when the old one is over),
    unless `limit` failures are counted already: whether it was counted. One statement, so two
    processes can never both take the last place."""
    now, since = _window()
    table = LoginThrottle.__table__
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table).values(key=key, failures=1, window_start=now)
    expired = table.c.window_start <= since
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": sa.case((expired, 1), else_=table.c.failures + 1),
            "window_start": sa.case((expired, now), else_=table.c.window_start),
        },
        where=None if limit is None else sa.or_(expired, table.c.failures < limit),
    ).returning(table.c.failures)
    return conn.execute(stmt).first() is not None


def _retry_after(keys) -> int:
    now, _since = _window()
    window = timedelta(seconds=current_app.config["LOGIN_THROTTLE_SECONDS"])
    with _throttle_engine().connect() as conn:
        started = conn.execute(
            sa.select(sa.func.max(LoginThrottle.window_start)).where(LoginThrottle.key.in_(keys))
        ).scalar()
    if started is None:
        return 1
    return max(1, int((started + window - now).total_seconds()))


def _reserve(email: str, ip: str | None) -> list[str]:
    """Take a place for this attempt under every limit, or raise Throttled (taking none)."""
    limits = _throttle_limits(email, ip)
    taken: list[str] = []
    with _throttle_engine().begin() as conn:
        for key, limit in limits.items():
            if not _upsert(conn, key, limit):
                # Leaving the block rolls back the places taken so far.
                raise Throttled(_retry_after([key]))
            taken.append(key)
    return taken


def _give_back(keys: list[str], *, forget: list[str]) -> None:
    """A right password: its reservations are no failures; the owner's own address starts
    afresh."""
    table = LoginThrottle.__table__
    with _throttle_engine().begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.key.in_(keys), table.c.failures > 0)
            .values(failures=table.c.failures - 1)
        )
        if forget:
            conn.execute(sa.delete(table).where(table.c.key.in_(forget)))


def _record_failure(email: str) -> None:
    """A wrong password: the reservations stand; the account counts one more failure, and
    windows long over are forgotten (the table holds only what the throttle reads)."""
    _now, since = _window()
    with _throttle_engine().begin() as conn:
        _upsert(conn, f"account:{email.strip().lower()}", None)
        conn.execute(sa.delete(LoginThrottle.__table__).where(LoginThrottle.window_start <= since))


def authenticate(email: str, password: str, ip: str | None) -> User | None:
    """The active user with these credentials, or None (the failure is counted for throttling).

    Raises Throttled before checking anything when this attempt is over a limit. No database
    connection is held while the password is checked (a slow KDF by design): a burst of guesses
    must not take every connection of the pool, nor any request two at once.
    """
    reserved = _reserve(email, ip)
    with _throttle_engine().connect() as conn:
        row = conn.execute(
            sa.select(User.id, User.password_hash, User.active).where(
                User.email == email.strip().lower()
            )
        ).first()
    if row is None:
        # As slow as a wrong password, so the answer's timing does not tell who has an account.
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
    if row is None or not row.active or not check_password_hash(row.password_hash, password):
        _record_failure(email)
        return None
    _give_back(reserved, forget=[k for k in reserved if k.startswith("pair:")])
    user = db.session.get(User, row.id)
    user.last_login_at = clock.now()
    return user


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def issue_token(user: User, name: str | None = None) -> str:
    """A new API token for the user; only its hash is kept, so this is the one time it is seen.
    It expires after API_TOKEN_DAYS days (0: never)."""
    token = "ppp_" + secrets.token_urlsafe(32)
    days = current_app.config.get("API_TOKEN_DAYS", 365)
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            prefix=token[:10],
            name=name,
            expires_at=clock.now() + timedelta(days=days) if days else None,
        )
    )
    db.session.flush()
    return token


def user_for_token(token: str) -> tuple[User | None, bool]:
    """The live token's active user (None if there is none), and whether its last use was
    noted now, to be committed."""
    row = db.session.scalar(
        sa.select(ApiToken)
        .options(joinedload(ApiToken.user))  # one query a call, not two
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    )
    now = clock.now()
    if row is None or not row.user.active or (row.expires_at is not None and row.expires_at <= now):
        return None, False
    # Note the use without writing on every request.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=10):
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
        )
        return row.user, True
    return row.user, False


def revoke_token(token_row: ApiToken) -> None:
    if token_row.revoked_at is None:
        token_row.revoked_at = clock.now()


def revoke_tokens(user: User, prefix: str | None = None) -> int:
    """Revoke the user's live tokens (or the one starting with `prefix`); how many were."""
    stmt = sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        stmt = stmt.where(ApiToken.prefix == prefix[:10])
    rows = db.session.scalars(stmt).all()
    for row in rows:
        revoke_token(row)
    db.session.flush()
    return len(rows)


def change_password(user: User, password: str, field: str = "password") -> int:
    """Set a new password: every session of the user ends and every API token is revoked (a
    password changed because it leaked must not leave a way in); how many tokens were."""
    check_password_rules(password, field)
    user.set_password(password)
    user.end_sessions()
    return revoke_tokens(user)


def end_sessions(user: User) -> None:
    """Logout: every session of the user ends, on the server (a saved cookie no longer works)."""
    user.end_sessions()
    db.session.flush()
