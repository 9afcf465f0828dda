"""POST /api/v1/tokens: exchange an e-mail and password (HTTP Basic) for an API token."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, g, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import ngettext

from ppp_tracker.auth import services
from ppp_tracker.auth.api_access import api_blueprint
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db

blp = api_blueprint("tokens_api", "API tokens and the caller")


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    region = ma.fields.String(attribute="region_code", allow_none=True)
    locale = ma.fields.String()


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.doc(security=[{"basicAuth": []}])
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong e-mail or password")
    @blp.alt_response(429, description="Too many failed attempts")
    def post(self):
        """A new API token for the user named by HTTP Basic credentials (e-mail, password)."""
        auth = request.authorization
        if auth is None or auth.type != "basic" or not auth.username:
            abort(401, description=_("Send your e-mail and password with HTTP Basic auth."))
        try:
            user = services.authenticate(auth.username, auth.password or "", request.remote_addr)
        except services.Throttled as exc:
            exc_429 = _too_many(exc.retry_after)
            raise exc_429 from None
        if user is None:
            db.session.commit()  # keep the failed attempt for throttling
            abort(401, description=_("Wrong e-mail or password."))
        with acting_as(Actor(user.email, user.id)):
            token = services.issue_token(user, name="api")
            db.session.commit()
        return {"token": token}


def _too_many(retry_after: int):
    from werkzeug.exceptions import TooManyRequests

    exc = TooManyRequests()
    exc.data = {
        "errors": {
            "_request": [
                ngettext(
                    "Too many failed attempts. Try again in %(num)d second.",
                    "Too many failed attempts. Try again in %(num)d seconds.",
                    retry_after,
                )
            ]
        },
        "headers": {"Retry-After": str(retry_after)},
    }
    return exc


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The user the token belongs to."""
        return g.user
