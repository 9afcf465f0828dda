"""Administration of claim letters: the letter texts (edited, checked, previewed on the sample
letters), the outgoing numbers and the departments that send letters."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, require
from ppp_tracker.claims import composing, numbering
from ppp_tracker.claims import departments as department_services
from ppp_tracker.claims.codes import LETTER_LANGUAGES
from ppp_tracker.claims.forms import DepartmentForm, NumberingForm, TemplateForm
from ppp_tracker.claims.letters import rendering, samples, sandbox, texts
from ppp_tracker.claims.models import DEFAULT_LEGAL_BASIS, Claim, Department
from ppp_tracker.claims.views.common import blank, bp
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors, save_form
from ppp_tracker.core.regions import Region
from ppp_tracker.db import db
from ppp_tracker.registry.views.common import history_of


@bp.get("/letter-templates")
def letter_templates():
    require(Permission.ADMIN)
    rows = {lang: composing.current_template(lang) for lang in LETTER_LANGUAGES}
    return render_template("claims/letter_templates.html", rows=rows)


@bp.route("/letter-templates/<any(ru, kk):lang>", methods=["GET", "POST"])
def letter_template(lang: str):
    user = require(Permission.ADMIN)
    current = composing.current_template(lang)
    form = TemplateForm()
    if request.method == "GET":
        form.body.data = current.body if current else texts.default_text(lang)
    if request.method == "POST" and request.form.get("reset"):
        form.body.data = texts.default_text(lang)
    elif form.validate_on_submit():
        try:
            saved = composing.save_template(user, lang, form.body.data, blank(form.note.data))
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("Version %(v)s of the letter text is in use.", v=saved.version), "success")
            return redirect(url_for("claims.letter_template", lang=lang))
    preview = None
    if not form.errors and form.body.data:
        problems = texts.check_text(form.body.data, lang)
        if problems:
            form.body.errors = [str(p) for p in problems]
        else:
            preview = rendering.compose(form.body.data, samples.sample_context(), lang).frame
    status = 422 if form.errors else 200
    return render_template(
        "claims/letter_template.html",
        form=form,
        lang=lang,
        current=current,
        preview=preview,
        names=texts.CONTEXT_NAMES,
        sample=samples.sample_context(1),
        filters=sandbox.FILTER_HELP,
        blocks=sandbox.BLOCKS,
        required=texts.REQUIRED_BLOCKS,
    ), status


@bp.route("/numbering", methods=["GET", "POST"])
def numbering_page():
    require(Permission.ADMIN)
    form = NumberingForm()
    prefix = numbering.department_prefix()
    if form.validate_on_submit():
        try:
            number = numbering.set_last_used(form.last_number.data, prefix)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            flash(_("The next letter gets No. %(n)s-%(s)s.", n=prefix, s=number.seq + 1), "success")
            return redirect(url_for("claims.numbering_page"))
    last = numbering.last_used(prefix)
    recent = db.session.scalars(
        sa.select(Claim)
        .where(Claim.outgoing_prefix == prefix)
        .order_by(Claim.outgoing_year.desc(), Claim.outgoing_seq.desc())
        .limit(10)
    ).all()
    status = 422 if form.errors else 200
    return render_template(
        "claims/numbering.html",
        form=form,
        prefix=prefix,
        last=last,
        recent=recent,
        yearly=numbering.restarts_yearly(),
        year=clock.today().year,
    ), status


@bp.get("/departments")
def departments():
    require(Permission.ADMIN)
    regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    rows = {d.region_code: d for d in db.session.scalars(sa.select(Department))}
    return render_template("claims/departments.html", regions=regions, rows=rows)


@bp.route("/departments/<string(maxlength=8):region_code>", methods=["GET", "POST"])
def department(region_code: str):
    user = require(Permission.ADMIN)
    region = db.get_or_404(Region, region_code)
    current = department_services.department_for(region.code)
    form = DepartmentForm(obj=current)
    if request.method == "GET" and current is None:
        form.legal_basis.data = DEFAULT_LEGAL_BASIS
    if form.validate_on_submit():
        data = {name: form[name].data for name in form.data if name != "csrf_token"}
        done = save_form(
            form,
            lambda: department_services.save_department(user, region.code, data),
            lambda _department: url_for("claims.department", region_code=region.code),
            saved=_("The department's requisites are saved."),
        )
        if done:
            return done
    status = 422 if form.errors else 200
    history = history_of(("departments", [current.id])) if current is not None else []
    return render_template(
        "claims/department.html", form=form, region=region, current=current, history=history
    ), status
