"""Users, passwords, login throttling and API tokens: plain functions that flush, never commit."""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from ppp_tracker import clock
from ppp_tracker.auth.models import ApiToken, LoginAttempt, Role, User, hash_token
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.registry.models import Region

MIN_PASSWORD_LENGTH = 10


class Throttled(Exception):
    """Too many failed logins for this e-mail or address; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"throttled for {retry_after} s")
        self.retry_after = retry_after


def normalise_email(raw: str) -> str:
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


def _throttle_keys(email: str, ip: str | None) -> list[str]:
    keys = [f"email:{email.strip().lower()}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


def check_throttle(email: str, ip: str | None) -> None:
    """Refuse when the e-mail or the address has too many recent failures."""
    window = current_app.config["LOGIN_THROTTLE_SECONDS"]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    since = clock.now() - timedelta(seconds=window)
    for key in _throttle_keys(email, ip):
        failures = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(LoginAttempt.at)).where(
                LoginAttempt.key == key, LoginAttempt.at >= since
            )
        ).one()
        # An address shared by a whole office gets more room than a single e-mail.
        key_limit = limit * 4 if key.startswith("ip:") else limit
        if failures[0] >= key_limit:
            retry = int((failures[1] + timedelta(seconds=window) - clock.now()).total_seconds())
            raise Throttled(max(retry, 1))


def authenticate(email: str, password: str, ip: str | None) -> User | None:
    """The active user with these credentials, or None (the failure is recorded for throttling).

    Raises Throttled before checking anything when there were too many failures.
    """
    check_throttle(email, ip)
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        # As slow as a wrong password, so the answer's timing does not tell who has an account.
        check_password_hash(_dummy_hash(), password)
    if user is None or not user.active or not user.check_password(password):
        # Failures older than the window no longer count: forget them (of every key), so the
        # table holds only what the throttle reads.
        since = clock.now() - timedelta(seconds=current_app.config["LOGIN_THROTTLE_SECONDS"])
        db.session.execute(
            sa.delete(LoginAttempt).where(LoginAttempt.at < since),
            execution_options={"synchronize_session": False},
        )
        for key in _throttle_keys(email, ip):
            db.session.add(LoginAttempt(key=key))
        db.session.flush()
        return None
    db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.key == f"email:{user.email}"))
    user.last_login_at = clock.now()
    return user


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


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


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    now = clock.now()
    if row is None or not row.user.active or (row.expires_at is not None and row.expires_at <= now):
        return None
    # Note the use without writing on every request.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=10):
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
        )
    return row.user


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
