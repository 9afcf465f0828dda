"""The letter text in use (the admins' versions per language), a claim's letter composed from it,
and the DOCX and PDF files kept of a sent letter."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask_babel import gettext as _

from ppp_tracker.claims.codes import LETTER_LANGUAGES
from ppp_tracker.claims.ladder import id_of
from ppp_tracker.claims.letter_facts import claim_facts
from ppp_tracker.claims.letters import frozen, rendering, texts
from ppp_tracker.claims.models import Claim, ClaimFile, LetterTemplate
from ppp_tracker.core import limits
from ppp_tracker.core.errors import Conflict, Invalid
from ppp_tracker.core.validation import Errors, check_text
from ppp_tracker.db import db


def current_template(lang: str) -> LetterTemplate | None:
    return db.session.scalar(
        sa.select(LetterTemplate)
        .where(LetterTemplate.language == lang)
        .order_by(LetterTemplate.version.desc())
        .limit(1)
    )


def save_template(user, lang: str, body, note=None) -> LetterTemplate:
    """A new version of the letter text, refused with line and reason if it would not render."""
    if lang not in LETTER_LANGUAGES:
        raise Invalid.one("language", _("Letters exist in: %(l)s.", l=", ".join(LETTER_LANGUAGES)))
    errors = Errors()
    body = check_text(errors, "body", body, required=True, max_length=texts.MAX_TEMPLATE_CHARS)
    # TemplateForm (claims/forms.py) checks the same limit on the page.
    note = check_text(errors, "note", note, max_length=limits.LINE)
    errors.raise_if_any()
    problems = texts.check_text(body, lang)
    if problems:
        raise Invalid({"body": [str(p) for p in problems]})
    latest = current_template(lang)
    row = LetterTemplate(
        language=lang,
        version=(latest.version + 1) if latest else 1,
        body=body,
        note=note,
        created_by_id=id_of(user),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError as exc:
        raise Conflict({"body": [_("Someone saved a new version meanwhile; reload it.")]}) from exc
    return row


def current_texts() -> dict[str, dict]:
    """The letter text in use per language: the newest admin version, or the default."""
    out = {}
    for lang in LETTER_LANGUAGES:
        row = current_template(lang)
        out[lang] = {
            "version": row.version if row else 0,
            "body": row.body if row else texts.default_text(lang),
        }
    return out


def letter_for(claim: Claim, lang: str) -> rendering.RenderedLetter:
    """The claim's letter: as frozen when sent, or as the draft reads today."""
    if lang not in LETTER_LANGUAGES:
        raise Invalid.one("lang", _("Letters exist in: %(l)s.", l=", ".join(LETTER_LANGUAGES)))
    snapshot = claim.letter_snapshot
    if snapshot:
        return rendering.compose(
            snapshot["texts"][lang]["body"], frozen.thaw(snapshot["facts"]), lang
        )
    return rendering.compose(current_texts()[lang]["body"], claim_facts(claim), lang)


def letter_file(claim: Claim, lang: str, fmt_: str) -> bytes:
    """The bytes to download: the stored file of a sent letter, else rendered now."""
    if fmt_ not in ("docx", "pdf"):
        raise Invalid.one("format", _("Letters are DOCX or PDF."))
    if claim.letter_snapshot:
        stored = db.session.scalar(
            sa.select(ClaimFile).where(
                ClaimFile.claim_id == claim.id,
                ClaimFile.language == lang,
                ClaimFile.format == fmt_,
            )
        )
        if stored is not None:
            return stored.content
    letter = letter_for(claim, lang)
    return letter.docx() if fmt_ == "docx" else letter.pdf()


def store_letter_files(claim: Claim) -> list[ClaimFile]:
    """Render and keep the DOCX and PDF (ru, kk) of a sent claim; safe to run twice."""
    if not claim.letter_snapshot:
        return []
    have = {
        (f.language, f.format)
        for f in db.session.scalars(sa.select(ClaimFile).where(ClaimFile.claim_id == claim.id))
    }
    made = []
    for lang in LETTER_LANGUAGES:
        letter = None
        for fmt_ in ("docx", "pdf"):
            if (lang, fmt_) in have:
                continue
            letter = letter or letter_for(claim, lang)
            content = letter.docx() if fmt_ == "docx" else letter.pdf()
            row = ClaimFile(
                claim_id=claim.id,
                language=lang,
                format=fmt_,
                content=content,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
            )
            try:
                with db.session.begin_nested():
                    db.session.add(row)
            except sa.exc.IntegrityError:
                continue  # another worker stored the same file first
            made.append(row)
    return made
