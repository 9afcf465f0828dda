"""Users, roles, API tokens, login attempts and the audit log."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, Session, attributes, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ppp_tracker.core.audit import Audited
from ppp_tracker.core.enums import LabelledEnum
from ppp_tracker.core.folding import Searchable
from ppp_tracker.core.regions import Region
from ppp_tracker.db import UTCDateTime, db, enum_type, utcnow


class Role(LabelledEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    OFFICER = "officer"
    LEGAL = "legal"
    VIEWER = "viewer"

    @classmethod
    def _labels(cls):
        return {
            "admin": _l("Administrator"),
            "manager": _l("Manager"),
            "officer": _l("Contract officer"),
            "legal": _l("Legal staff"),
            "viewer": _l("Viewer"),
        }


class AlertMode(LabelledEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"

    @classmethod
    def _labels(cls):
        return {"immediate": _l("Each alert at once"), "digest": _l("One daily digest")}


class User(Searchable, Audited, UserMixin, db.Model):
    __tablename__ = "users"
    __searched__ = ("name", "email")
    __audit_exclude__ = ("password_hash",)
    #: When a colleague last logged in is nobody else's business (the audit log is read by the
    #: whole region).
    __audit_ignore__ = ("last_login_at", "session_version")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    #: Position shown under the signature of letters the user prepares.
    position: Mapped[str | None] = mapped_column(sa.String(255))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    #: NULL: the user's scope is every region.
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    locale: Mapped[str] = mapped_column(sa.String(5), default="ru")
    alert_mode: Mapped[AlertMode] = mapped_column(enum_type(AlertMode), default=AlertMode.IMMEDIATE)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Moves on at every logout and password change: every session made before (whose
    #: `get_id()` carries the old `session_key`) is then refused on its next request.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    region: Mapped[Region | None] = relationship()

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt, a memory-hard KDF.
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def session_key(self) -> str:
        """Changes with the password and the session version: a session made before a password
        change or a logout is no longer valid (the session stores `get_id()`, which carries it,
        and the user loader compares it on every request)."""
        material = f"session:{self.password_hash}:{self.session_version or 0}"
        return hashlib.sha256(material.encode()).hexdigest()[:20]

    def end_sessions(self) -> None:
        """Every session of this user ends (logout, password change)."""
        self.session_version = (self.session_version or 0) + 1

    def get_id(self) -> str:  # Flask-Login: what the session keeps
        return f"{self.id}:{self.session_key}"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def all_regions(self) -> bool:
        return self.region_code is None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role} {self.region_code or '*'}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Audited, db.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __audit_exclude__ = ("token_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The first characters of the token, so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: NULL: does not expire (tokens issued before expiry existed).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… user={self.user_id}>"


class LoginThrottle(db.Model):
    """Failed (and running) logins of one key in the current window, counted for throttling
    across all processes with one conditional INSERT … ON CONFLICT DO UPDATE (auth.services)."""

    __tablename__ = "login_throttle"

    #: "account:<e-mail>", "pair:<e-mail> <address>" or "address:<address>".
    key: Mapped[str] = mapped_column(sa.String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: When the window of these failures began; a failure after the window starts a new one.
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.key} {self.failures} since {self.window_start}>"


#: The columns that decide what a user may see and receive.
SCOPE_COLUMNS = ("role", "region_code", "active")


def scope_changed(session: Session) -> list[User]:
    """The users whose role, region or active flag this flush changes (for the features that
    hold work addressed to them, e.g. the alerts' waiting reminders: they listen to the flush)."""
    return [
        obj
        for obj in session.dirty
        if isinstance(obj, User)
        and obj not in session.deleted
        and any(
            attributes.get_history(obj, key, passive=attributes.PASSIVE_NO_INITIALIZE).has_changes()
            for key in SCOPE_COLUMNS
        )
    ]
