"""Roles, permissions and region scope: the one place that says who may see and do what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask import abort, g

from ppp_tracker.auth.models import Role, User
from ppp_tracker.core import web
from ppp_tracker.core.web import NavItem
from ppp_tracker.db import db


class Permission(StrEnum):
    #: Read everything in one's scope.
    READ = "read"
    #: Create and change projects, sites, contracts, milestones, documents.
    EDIT_REGISTRY = "edit_registry"
    #: Create and change counterparties (a directory shared by all regions).
    EDIT_PARTIES = "edit_parties"
    #: Draft and edit claim letters, record replies, open cases.
    MANAGE_CLAIMS = "manage_claims"
    #: Approve and send claim letters.
    APPROVE_CLAIMS = "approve_claims"
    #: Users, regions, the calendar, templates, numbering.
    ADMIN = "admin"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset({Permission.READ, Permission.EDIT_REGISTRY, Permission.EDIT_PARTIES}),
    Role.OFFICER: frozenset({Permission.READ, Permission.EDIT_REGISTRY, Permission.EDIT_PARTIES}),
    Role.LEGAL: frozenset(
        {
            Permission.READ,
            Permission.EDIT_PARTIES,
            Permission.MANAGE_CLAIMS,
            Permission.APPROVE_CLAIMS,
        }
    ),
    Role.VIEWER: frozenset({Permission.READ}),
}


@dataclass(frozen=True)
class SystemUser:
    """Who the services see when a worker, the CLI or the demo loader acts: every region."""

    email: str = "system"
    id: int | None = None
    region_code: str | None = None
    active: bool = True
    role: Role = Role.ADMIN


SYSTEM_USER = SystemUser()


def has_permission(user: User | None, permission: Permission) -> bool:
    if user is None or not user.active:
        return False
    return permission in ROLE_PERMISSIONS.get(Role(user.role), frozenset())


def in_scope(user: User, region_code: str | None) -> bool:
    """A user bound to a region reaches only that region's records."""
    return user.region_code is None or region_code == user.region_code


def scope(stmt, user: User, region_column):
    """Restrict a select to the user's region (no-op for users of every region)."""
    if user.region_code is None:
        return stmt
    return stmt.where(region_column == user.region_code)


def acting_user() -> User | None:
    """The user of this request: the session's user on pages, the token's user in the API."""
    return g.get("user")


def require(permission: Permission) -> User:
    """The acting user if they hold the permission; 403 otherwise (401 when nobody is logged in)."""
    user = acting_user()
    if user is None:
        abort(401)
    if not has_permission(user, permission):
        abort(403)
    return user


def get_in_scope(model, ident, user: User | None = None):
    """The record if it exists and lies in the user's scope; 404 otherwise (no existence leak)."""
    user = user or acting_user()
    obj = db.session.get(model, ident)
    if obj is None or user is None or not in_scope(user, obj.region_code):
        abort(404)
    return obj


def _visible(items: dict[str, NavItem], user) -> list[tuple[str, str]]:
    return [
        (item.endpoint, str(item.label))
        for item in sorted(items.values(), key=lambda i: i.order)
        if has_permission(user, Permission(item.permission))
    ]


def menu_context() -> dict:
    """The template names that depend on the user's permissions: the menus (entries added by
    each feature with `core.web.add_nav`) and `can(permission)`."""
    user = g.get("user")
    return {
        "nav_items": lambda: _visible(web.NAV_ITEMS, user),
        "admin_items": lambda: _visible(web.ADMIN_ITEMS, user),
        "can": lambda permission: has_permission(user, Permission(permission)),
    }
