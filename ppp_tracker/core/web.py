"""What every page shares: the acting user, template filters, errors, security headers, language."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from ppp_tracker import clock
from ppp_tracker.core import limits
from ppp_tracker.core.api import webargs_errors
from ppp_tracker.core.audit import SYSTEM, Actor, set_actor
from ppp_tracker.core.dates import days_late_phrase, relative_phrase
from ppp_tracker.core.errors import Invalid
from ppp_tracker.db import db
from ppp_tracker.i18n import LANGUAGE_NAMES
from ppp_tracker.money import format_money, format_number

bp = Blueprint("core", __name__)

#: The largest id an INTEGER primary key holds.


class IdConverter(IntegerConverter):
    """`<id:…>` in URLs, the id of a record: a positive integer that fits an INTEGER column;
    anything else (0, -1, 2**31) matches no route: a plain 404, never an overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", limits.MAX_ID)
        super().__init__(map, *args, **kwargs)


def local_path(target: str | None, default: str | None = None) -> str:
    r"""`target` if it is a path on this site, else `default` (the home page): no open redirect.

    Browsers read a backslash as a slash and drop tabs and newlines, so `/\evil.com` or
    `/<TAB>/evil.com` would leave the site; anything with a scheme, a host, a backslash or a control
    character is refused, also after percent-decoding.
    """
    fallback = default or url_for("reports.home")
    if not target:
        return fallback
    for text in (target, unquote(target)):
        if (
            not text.startswith("/")
            or text.startswith("//")
            or "\\" in text
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in text)
        ):
            return fallback
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return fallback
    return target


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def locale_code() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def format_date(value: date | None) -> str:
    """Dates as officers write them: 12.06.2014."""
    return "" if value is None else value.strftime("%d.%m.%Y")


def format_timestamp(value: datetime | None) -> str:
    """A UTC timestamp as Asia/Almaty wall-clock time: 12.06.2014 15:04."""
    return "" if value is None else clock.to_local(value).strftime("%d.%m.%Y %H:%M")


def _money_filter(value: Decimal | None) -> str:
    return format_money(value, locale_code())


def _number_filter(value) -> str:
    return format_number(value, locale_code())


def _load_web_user() -> None:
    """The session's user on pages; the API sets its own from the bearer token."""
    if is_api_request():
        return
    if current_user.is_authenticated:
        g.user = current_user._get_current_object()
        set_actor(Actor(g.user.email, g.user.id))


#: JSON nested deeper than this is no record of ours; parsing and checking it recurse per level
#: (a body of 100,000 "[" was a RecursionError: a 500 for anyone, before authentication).
MAX_JSON_DEPTH = 32


def _json_depth(value) -> int:
    """How deeply a parsed JSON value nests (without recursion), stopping past the limit."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend(
                (child, level + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


#: NUL, and the halves of a surrogate pair alone ("\\ud800" in JSON): no UTF-8 text holds them,
#: so the database refuses them (a lone surrogate was a UnicodeEncodeError: a 500).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def _nul_fields(value, path: str = "") -> list[str]:
    """Where a NUL character or a lone surrogate hides in a JSON value (databases refuse them;
    so do we, clearly)."""
    if isinstance(value, str):
        return [path or "_request"] if _FORBIDDEN.search(value) else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            found += ([name] if _FORBIDDEN.search(str(key)) else []) + _nul_fields(item, name)
        return found
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in _nul_fields(item, f"{path}.{i}")]
    return []


def _refuse_nul_characters():
    """No text with a NUL character reaches a service or the database, whatever the route."""
    fields = [k for k, v in request.args.items(multi=True) if "\x00" in k or "\x00" in v]
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            fields += [k for k, v in request.form.items(multi=True) if "\x00" in k or "\x00" in v]
        elif request.is_json:
            try:
                body = request.get_json(silent=True)
                too_deep = _json_depth(body) > MAX_JSON_DEPTH
            except RecursionError:
                too_deep = True
            if too_deep:
                return _refuse(_("The JSON body is nested too deeply."), [])
            fields += _nul_fields(body)
    if not fields:
        return None
    return _refuse(_("Contains a forbidden character."), fields)


def _refuse(message: str, fields):
    """A 400 naming the fields (or the whole request) and why."""
    if is_api_request():
        errors = {field: [message] for field in fields} or {"_request": [message]}
        return jsonify({"errors": errors}), 400
    return render_template("errors/error.html", code=400, title=message), 400


def _reset_actor(_exc=None) -> None:
    set_actor(SYSTEM)


#: A year: a static file's address carries its version (`?v=`, see `_static_version`), so a
#: changed file has a new address and a browser never keeps an old one.
STATIC_MAX_AGE = 365 * 24 * 3600


def _static_version(endpoint: str, values: dict) -> None:
    """`url_for("static", filename=…)` adds `v`, the file's modification time: pages name
    the version of each stylesheet and script, which browsers may then keep for a year
    instead of fetching them again with every page (Flask's cache busting)."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        path = os.path.join(current_app.static_folder, values["filename"])
        if os.path.isfile(path):
            values["v"] = int(os.stat(path).st_mtime)


def _security_headers(response):
    if request.endpoint == "static":
        # The same for every user, and no user's data: browsers and proxies may keep it.
        if request.args.get("v") and response.status_code == 200:
            response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
    elif g.get("user") is not None:
        # What a logged-in user sees (pages, exports, letters) stays out of every cache: a
        # shared computer's back button after logout, a proxy.
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _error_title(code: int) -> str:
    titles = {
        400: _("Bad request"),
        401: _("Please log in"),
        403: _("You do not have access to this page or action."),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _(
            "The upload is too large: at most %(mb)d MB may be sent at once.",
            mb=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
        ),
        422: _("The data is not valid"),
        429: _("Too many attempts, please wait and try again."),
        500: _("Something went wrong on our side; the error has been logged."),
    }
    return titles.get(code, _("Error"))


def handle_http_error(exc: HTTPException):
    code = exc.code or 500
    if is_api_request():
        data = getattr(exc, "data", None)
        errors = webargs_errors(data) if isinstance(data, dict) else None
        # werkzeug's own text for 413 does not say the limit; ours does.
        described = _error_title(code) if code == 413 else exc.description
        body = {"errors": errors or {"_request": [described or _error_title(code)]}}
        response = jsonify(body)
        response.status_code = code
        if code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        if isinstance(data, dict) and data.get("headers"):
            response.headers.update(data["headers"])
        if code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="ppp-tracker"'
        return response
    if code == 401:
        return redirect(url_for("auth.login", next=request.full_path))
    # A refusal that says why (abort(403, description=…)) shows its reason; werkzeug's own
    # generic text is not shown.
    detail = None
    if code == 403 and exc.description != type(exc).description:
        detail = exc.description
    return render_template(
        "errors/error.html", code=code, title=_error_title(code), detail=detail
    ), code


def handle_csrf_error(exc: CSRFError):
    current_app.logger.warning("CSRF refused on %s: %s", request.path, exc.description)
    if is_api_request():
        return jsonify({"errors": {"csrf_token": [exc.description]}}), 400
    return (
        render_template(
            "errors/error.html",
            code=400,
            title=_("The form has expired or was not sent from this site. Please try again."),
        ),
        400,
    )


def link_args(args, drop: Iterable[str] = ()) -> dict[str, str]:
    """A query string's arguments to carry into a link to this or another page (the filters of a
    list, its sort): without the names `url_for` keeps for itself (`_anchor`, `_method`,
    `_external`, …, any name starting with "_", and `endpoint`), nor those the link sets itself
    (`drop`: its path's arguments, a page number). A hostile query string cannot break a link."""
    dropped = set(drop)
    return {
        k: v
        for k, v in args.items()
        if not k.startswith("_") and k != "endpoint" and k not in dropped
    }


def url_with_args(endpoint: str, args, drop: Iterable[str] = (), **values) -> str:
    """`url_for(endpoint, **values)` carrying the query's other arguments (link_args)."""
    carried = link_args(args, (*drop, *values))
    return url_for(endpoint, **values, **carried)


def handle_refused(exc: Invalid):
    """A service's refusal that a view did not show next to its fields: the page says why (422,
    409), never a 500."""
    if is_api_request():
        return jsonify({"errors": exc.errors}), exc.status
    reasons = " ".join(m for messages in exc.errors.values() for m in messages)
    title = f"{_error_title(exc.status)}: {reasons}" if reasons else _error_title(exc.status)
    return render_template("errors/error.html", code=exc.status, title=title), exc.status


def handle_unexpected(exc: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if is_api_request():
        return jsonify({"errors": {"_request": [_error_title(500)]}}), 500
    return render_template("errors/error.html", code=500, title=_error_title(500)), 500


@bp.post("/locale")
def set_locale():
    chosen = request.form.get("locale", "")
    if chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen
        user = g.get("user")
        if user is not None and user.locale != chosen:
            user.locale = chosen
            db.session.commit()
    return redirect(local_path(request.form.get("next")))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own (a PDF tab, an old bookmark): the site's icon,
    not a 404 in every log."""
    return current_app.send_static_file("img/favicon.svg"), 200, {"Cache-Control": "max-age=86400"}


@bp.get("/healthz")
def healthz():
    from sqlalchemy import text

    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    permission: str = "read"
    #: Lower comes first.
    order: int = 100


@dataclass(frozen=True)
class Banner:
    level: str
    text: str


#: Menu entries by endpoint; each feature adds its own with `add_nav` in its init_app.
NAV_ITEMS: dict[str, NavItem] = {}
#: Entries of the user menu (administration and the like), by endpoint.
ADMIN_ITEMS: dict[str, NavItem] = {}
#: Callables returning banners shown on top of every page (e.g. "the deadline scan is stale").
BANNER_PROVIDERS: dict[str, Callable[[], list[Banner]]] = {}
#: Callables returning HTML cards for the profile page (calendar feed, notification settings).
PROFILE_PANELS: dict[str, Callable[[], Any]] = {}
#: Figures every page needs, read in the same round trip as the logged-in user (a database round
#: trip costs more than its query on a busy server): name -> fn() -> a select of one value. The
#: stale-scan banner reads the last completed scan this way; `with_user(name)` gives the value.
WITH_USER: dict[str, Callable[[], Any]] = {}
#: What `with_user` answers when the user was not loaded by the session this request.
NOT_LOADED = object()


def with_user(name: str) -> Any:
    """The value of `WITH_USER[name]` read with this request's user, or NOT_LOADED."""
    return g.get("_with_user", {}).get(name, NOT_LOADED)


def add_nav(*items: NavItem, user_menu: bool = False) -> None:
    target = ADMIN_ITEMS if user_menu else NAV_ITEMS
    for item in items:
        target[item.endpoint] = item


def _banners() -> list[Banner]:
    if g.get("user") is None:
        return []
    out: list[Banner] = []
    for provider in BANNER_PROVIDERS.values():
        out.extend(provider())
    return out


def _template_context():
    """What every template may use; the menus and `can` (they need permissions) come from auth."""
    user = g.get("user")
    return {
        "page_banners": _banners,
        "profile_panels": lambda: [html for html in (p() for p in PROFILE_PANELS.values()) if html],
        "acting_user": user,
        "current_locale": locale_code(),
        "language_names": LANGUAGE_NAMES,
        "today": clock.today(),
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_refuse_nul_characters)
    app.before_request(_load_web_user)
    app.teardown_request(_reset_actor)
    app.after_request(_security_headers)
    app.url_defaults(_static_version)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(Invalid, handle_refused)
    if not app.testing and not app.debug:
        app.register_error_handler(Exception, handle_unexpected)
    app.context_processor(_template_context)
    from ppp_tracker.core import versions

    WITH_USER[versions.WITH_USER_NAME] = versions.select_version
    versions.init_app(app)
    from ppp_tracker.core import history

    app.jinja_env.globals.update(
        days_late_phrase=days_late_phrase,
        relative_phrase=relative_phrase,
        url_with_args=url_with_args,
        history_entity=history.entity_label,
        history_changes=history.changes,
    )
    app.jinja_env.filters.update(
        money=_money_filter,
        number=_number_filter,
        dmy=format_date,
        local_dt=format_timestamp,
    )
