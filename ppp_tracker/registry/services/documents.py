"""Documents attached to projects, sites and contracts: type, size and content checks."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ppp_tracker.auth.models import User
from ppp_tracker.core import limits
from ppp_tracker.core.validation import (
    Errors,
    check_text,
    safe_filename,
)
from ppp_tracker.db import db
from ppp_tracker.registry.codes import (
    ALLOWED_DOCUMENT_TYPES,
    DocumentType,
)
from ppp_tracker.registry.models import (
    Contract,
    Document,
    Milestone,
    ProductionSite,
    Project,
)
from ppp_tracker.registry.services.checks import (
    check_enum,
)


def add_document(
    user: User,
    *,
    owner: Project | ProductionSite | Contract,
    document_type: str,
    title: str | None,
    filename: str,
    content: bytes,
    milestone: Milestone | None = None,
) -> Document:
    errors = Errors()
    doc_type = check_enum(errors, "document_type", document_type, DocumentType)
    filename = safe_filename(filename)
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not filename:
        errors.add("file", _("Choose a file."))
    elif extension not in ALLOWED_DOCUMENT_TYPES:
        errors.add(
            "file",
            _(
                "Files of this type are not accepted. Allowed: %(types)s.",
                types=", ".join(sorted(ALLOWED_DOCUMENT_TYPES)),
            ),
        )
    limit = current_app.config["DOCUMENT_MAX_BYTES"]
    if len(content) == 0 and filename:
        errors.add("file", _("The file is empty."))
    elif len(content) > limit:
        errors.add("file", _("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)))
    elif extension and not _content_matches(extension, content):
        errors.add(
            "file", _("The file's content does not match its extension .%(ext)s.", ext=extension)
        )
    title = check_text(errors, "title", title, max_length=limits.LINE) or filename
    errors.raise_if_any()
    kwargs: dict[str, Any] = {}
    if isinstance(owner, Project):
        kwargs["project_id"] = owner.id
    elif isinstance(owner, ProductionSite):
        kwargs["site_id"] = owner.id
    else:
        kwargs["contract_id"] = owner.id
    document = Document(
        region_code=owner.region_code,
        document_type=doc_type,
        title=title,
        filename=filename,
        content_type=ALLOWED_DOCUMENT_TYPES[extension],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        milestone_id=milestone.id if milestone else None,
        uploaded_by_id=user.id,
        **kwargs,
    )
    db.session.add(document)
    db.session.flush()
    return document


_MAGIC = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "odt": (b"PK\x03\x04",),
    "ods": (b"PK\x03\x04",),
    "zip": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0",),
    "xls": (b"\xd0\xcf\x11\xe0",),
}


def _content_matches(extension: str, content: bytes) -> bool:
    """A cheap check that a ".pdf" is a PDF and so on; plain text must decode as UTF-8."""
    if extension == "txt":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return any(content.startswith(magic) for magic in _MAGIC.get(extension, (b"",)))


def documents_of(owner: Project | ProductionSite | Contract) -> list[Document]:
    """The documents attached to a project, a site or a contract, the newest first."""
    column = {
        Project: Document.project_id,
        ProductionSite: Document.site_id,
        Contract: Document.contract_id,
    }[type(owner)]
    return list(
        db.session.scalars(
            sa.select(Document).where(column == owner.id).order_by(Document.uploaded_at.desc())
        )
    )
