"""Who may call the JSON API: the bearer token, the role an operation needs, the caller's region.

The API's machinery (schemas, fields, errors, paging) is `core.api`; this is what it needs of auth.
"""

from __future__ import annotations

from flask import abort, current_app, g, request
from flask_babel import gettext as _

from ppp_tracker.auth import services as auth_services
from ppp_tracker.auth.access import Permission, get_in_scope, has_permission
from ppp_tracker.core.api import (
    PUBLIC_ENDPOINTS,
    add_total_count_header,
    api_blueprint_class,
    refuse_unknown_query_parameters,
)
from ppp_tracker.core.audit import Actor, set_actor
from ppp_tracker.db import db


def api_blueprint(name: str, description: str):
    """A blueprint under /api/v1 whose every call needs a bearer token."""
    blueprint = api_blueprint_class()(name, __name__, url_prefix="/api/v1", description=description)
    blueprint.before_request(authenticate_request)
    blueprint.after_request(add_total_count_header)
    return blueprint


def authenticate_request() -> None:
    """Every API call but the token request and the spec needs `Authorization: Bearer …`."""
    if request.method == "OPTIONS":
        return
    if request.endpoint in PUBLIC_ENDPOINTS:
        refuse_unknown_query_parameters()
        return
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, description=_("Send an API token: Authorization: Bearer <token>."))
    user, noted = auth_services.user_for_token(token.strip())
    if user is None:
        db.session.rollback()
        abort(401, description=_("The token is unknown, revoked, or its user is inactive."))
    if noted:
        db.session.commit()  # the token's last use, kept whatever the call does next
    g.user = user
    set_actor(Actor(user.email, user.id))
    # The role and the scope are checked before the body is read: a caller without the right
    # gets 403 and a record outside their region 404, never the validation errors of a call
    # they may not make.
    permission = getattr(_view_method(), "api_permission", None)
    if permission is not None:
        need(permission)
    for name, value in (request.view_args or {}).items():
        model = PATH_RECORDS.get(name)
        if model is not None:
            get_in_scope(model, value, user)
    refuse_unknown_query_parameters()


#: Path arguments that name a regional record: `<contract_id>` → Contract. A record outside
#: the caller's region is a 404 before anything else happens. Features add their own.
PATH_RECORDS: dict[str, type] = {}


def _view_method():
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class else None


def requires(permission: Permission):
    """Declare what an API method needs: the one check of its permission, made by
    `authenticate_request` before the method's arguments are parsed (tests/test_access.py
    fails for a method that declares none)."""

    def mark(fn):
        fn.api_permission = permission
        return fn

    return mark


def need(permission: Permission):
    user = g.get("user")
    if not has_permission(user, permission):
        abort(403, description=_("Your role does not allow this."))
    return user


def api_user():
    """The caller of this API request, authenticated and checked by `authenticate_request`."""
    return g.user
