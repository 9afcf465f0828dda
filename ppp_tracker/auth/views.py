"""Login, logout, the user's profile and tokens, user administration and the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required, login_user, logout_user

from ppp_tracker.auth import services
from ppp_tracker.auth.access import Permission, require, scope
from ppp_tracker.auth.forms import LoginForm, PasswordForm, ProfileForm, TokenForm, UserForm
from ppp_tracker.auth.models import ApiToken, Role, User
from ppp_tracker.core.audit import Actor, AuditEvent, set_actor
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors
from ppp_tracker.core.listing import Listing
from ppp_tracker.core.regions import Region
from ppp_tracker.core.web import local_path, locale_code
from ppp_tracker.db import db

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("user") is not None:
        return redirect(local_path(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        except services.Throttled as exc:
            form.password.errors.append(
                ngettext(
                    "Too many failed attempts. Try again in %(num)d second.",
                    "Too many failed attempts. Try again in %(num)d seconds.",
                    exc.retry_after,
                )
            )
            status = 429
        else:
            if user is None:
                db.session.commit()  # keep the failed attempt for throttling
                form.password.errors.append(_("Wrong e-mail or password."))
                status = 401
            else:
                set_actor(Actor(user.email, user.id))
                db.session.commit()
                session.clear()
                login_user(user)
                session["locale"] = user.locale
                return redirect(local_path(request.args.get("next")))
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    user = g.get("user")
    if user is not None:
        # Ends the session on the server: a copy of the cookie saved before no longer opens a
        # page (the signed cookie itself cannot be recalled from the browser).
        services.end_sessions(user)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user: User = g.user
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        user.name = form.name.data.strip()
        user.position = (form.position.data or "").strip() or None
        user.phone = (form.phone.data or "").strip() or None
        db.session.commit()
        flash(_("Your settings have been saved."), "success")
        return redirect(url_for("auth.profile"))
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    ).all()
    return render_template(
        "auth/profile.html",
        form=form,
        password_form=PasswordForm(),
        token_form=TokenForm(),
        tokens=tokens,
        new_token=session.pop("new_token", None),
    ), (422 if form.errors else 200)


@bp.post("/profile/password")
@login_required
def change_password():
    user: User = g.user
    form = PasswordForm()
    if form.validate_on_submit():
        if not user.check_password(form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            try:
                revoked = services.change_password(user, form.new.data, "new")
            except Invalid as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                db.session.commit()
                # Other sessions of this user end (their key was the old one); this one goes on
                # with the new key.
                login_user(user)
                flash(
                    ngettext(
                        "Your password has been changed. Your other sessions have ended and "
                        "your %(num)d API token has been revoked.",
                        "Your password has been changed. Your other sessions have ended and "
                        "your %(num)d API tokens have been revoked.",
                        revoked,
                    )
                    if revoked
                    else _("Your password has been changed. Your other sessions have ended."),
                    "success",
                )
                return redirect(url_for("auth.profile"))
    profile_form = ProfileForm(obj=user)
    return render_template(
        "auth/profile.html",
        form=profile_form,
        password_form=form,
        token_form=TokenForm(),
        tokens=[],
        new_token=None,
    ), 422


@bp.post("/profile/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a label."), "danger")
        return redirect(url_for("auth.profile"))
    token = services.issue_token(g.user, form.name.data.strip())
    db.session.commit()
    # Shown once, on the next page; only the hash is stored.
    session["new_token"] = token
    return redirect(url_for("auth.profile"))


@bp.post("/profile/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != g.user.id:
        abort(404)
    services.revoke_token(row)
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("auth.profile"))


# --- administration -----------------------------------------------------------------------


def _region_choices() -> list[tuple[str, str]]:
    regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    return [("", _("All regions"))] + [(r.code, r.name(locale_code())) for r in regions]


@bp.get("/admin/users")
@login_required
def users():
    require(Permission.ADMIN)
    listing = Listing(
        sa.select(User),
        search=[User.search_text],
        sorts={"email": User.email, "name": User.name, "role": User.role},
        default_sort="email",
        filters={"role": User.role, "region": User.region_code},
    )
    return render_template(
        "auth/users.html", listing=listing, roles=Role, regions=_region_choices()
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@bp.route("/admin/users/<id:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int | None = None):
    require(Permission.ADMIN)
    user = db.session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user)
    form.region.choices = _region_choices()
    if request.method == "GET" and user is not None:
        form.region.data = user.region_code or ""
        form.role.data = str(user.role)
    if form.validate_on_submit():
        region = form.region.data or None
        try:
            if user is None:
                user, generated = services.create_user(
                    form.email.data,
                    role=form.role.data,
                    name=form.name.data,
                    region_code=region,
                    password=form.password.data or None,
                    position=form.position.data or None,
                )
                user.active = form.active.data
                if generated:
                    flash(
                        _("Generated password: %(p)s — pass it on securely.", p=generated), "info"
                    )
            else:
                if user.id == g.user.id and (form.role.data != Role.ADMIN or not form.active.data):
                    raise Invalid.one("role", _("You cannot remove your own administrator rights."))
                email = services.normalise_email(form.email.data)
                clash = db.session.scalar(sa.select(User.id).where(User.email == email))
                if clash is not None and clash != user.id:
                    raise Invalid.one("email", _("A user with this e-mail already exists."))
                if form.password.data:
                    revoked = services.change_password(user, form.password.data)
                    if revoked:
                        flash(
                            ngettext(
                                "The user's %(num)d API token has been revoked.",
                                "The user's %(num)d API tokens have been revoked.",
                                revoked,
                            ),
                            "info",
                        )
                user.email = email
                user.name = form.name.data.strip()
                user.position = (form.position.data or "").strip() or None
                user.role = Role(form.role.data)
                user.region_code = region
                user.active = form.active.data
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("The user is saved."), "success")
            return redirect(url_for("auth.users"))
    status = 422 if form.errors else 200
    return render_template("auth/user_form.html", form=form, user=user), status


@bp.get("/audit")
@login_required
def audit_log():
    user = require(Permission.READ)
    stmt = scope(sa.select(AuditEvent), user, AuditEvent.region_code)
    listing = Listing(
        stmt,
        search=[AuditEvent.actor, AuditEvent.entity_type, AuditEvent.entity_id],
        sorts={"at": AuditEvent.at},
        default_sort="-at",
        filters={"entity_type": AuditEvent.entity_type, "action": AuditEvent.action},
    )
    return render_template("auth/audit.html", listing=listing)
