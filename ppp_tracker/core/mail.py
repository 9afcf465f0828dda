"""Sending one e-mail: by SMTP when a server is configured, otherwise into the outbox table that
the app shows (the embedded default). Callers own exactly-once: they claim their own row before
calling `send_email` and record the outcome after it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from ppp_tracker.core.folding import Searchable
from ppp_tracker.db import UTCDateTime, db, utcnow


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    #: A stable id per logical message (e.g. "alert-42@ppp-tracker"), so a resend is recognisable.
    message_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class OutboxMessage(Searchable, db.Model):
    """An e-mail kept instead of sent (no SMTP server configured), shown in the app."""

    __tablename__ = "outbox_messages"
    __searched__ = ("subject", "recipients")

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    recipients: Mapped[str] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.String(500))
    text: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} to {self.recipients} {self.subject[:40]!r}>"


class MailError(Exception):
    """Delivery failed; `temporary` says whether retrying later may help."""

    def __init__(self, message: str, *, temporary: bool = True):
        super().__init__(message)
        self.temporary = temporary


def build_message(email: Email) -> Message:
    # The legacy MIME classes and Header: EmailMessage's header folder drops the space between
    # two encoded words of a long Cyrillic subject ("…05.05.2014:1 напоминание"), Header does not.
    text = MIMEText(email.text, "plain", "utf-8")
    if email.html:
        message: Message = MIMEMultipart("alternative")
        message.attach(text)
        message.attach(MIMEText(email.html, "html", "utf-8"))
    else:
        message = text
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(email.to)
    message["Subject"] = Header(email.subject, "utf-8")
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = (
        f"<{email.message_id}>" if email.message_id else make_msgid(domain="ppp-tracker")
    )
    for name, value in email.headers.items():
        message[name] = value
    return message


def send_email(email: Email) -> str:
    """Deliver now over a connection of its own; returns "smtp" or "outbox". Raises MailError."""
    with Mailer() as mailer:
        return mailer.send(email)


class Mailer:
    """Sends a batch of e-mails over one SMTP connection, opened for the first message.

    A message whose send broke the connection fails (temporarily) and the next one opens a new
    connection: the broken one is never retried on the spot, since the server may have accepted
    it before the connection died. When the server cannot be reached at all, the rest of the
    batch fails with the same error without trying again (it would wait MAIL_TIMEOUT for each).
    """

    def __init__(self):
        self.config = current_app.config
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: MailError | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(
                config["MAIL_SERVER"],
                config["MAIL_PORT"],
                timeout=config["MAIL_TIMEOUT"],
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(
                config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
            )
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, email: Email) -> str:
        """Deliver one message; returns "smtp" or "outbox". Raises MailError on failure."""
        if not email.to:
            raise MailError("no recipients", temporary=False)
        if not self.config.get("MAIL_SERVER"):
            _to_outbox(email)
            return "outbox"
        if self.unreachable is not None:
            raise self.unreachable
        message = build_message(email)
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except Exception as exc:
                self.unreachable = _mail_error(exc)
                raise self.unreachable from exc
        try:
            self.smtp.send_message(message)
        except Exception as exc:
            error = _mail_error(exc)
            if not isinstance(exc, smtplib.SMTPResponseException) or exc.smtp_code == 421:
                # The connection may be broken (or the server closes it): start afresh.
                smtp, self.smtp = self.smtp, None
                smtp.close()
            raise error from exc
        return "smtp"


def _mail_error(exc: Exception) -> MailError:
    if isinstance(exc, MailError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return MailError(f"recipients refused: {exc.recipients}", temporary=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        return MailError(
            f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
            temporary=exc.smtp_code >= 400 and exc.smtp_code < 500,
        )
    if isinstance(exc, (OSError, smtplib.SMTPException)):
        return MailError(f"{type(exc).__name__}: {exc}")
    raise exc


def _to_outbox(email: Email) -> None:
    message_id = email.message_id or make_msgid(domain="ppp-tracker").strip("<>")
    # The same logical message twice is stored once (a retried task must not duplicate it).
    exists = db.session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.message_id == message_id)
    )
    if exists is None:
        db.session.add(
            OutboxMessage(
                message_id=message_id,
                recipients=", ".join(email.to),
                subject=email.subject,
                text=email.text,
                html=email.html,
            )
        )
        db.session.flush()
