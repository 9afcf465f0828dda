"""Calendar feed addresses of users, spreadsheet imports with their progress and outcome, and
the dashboard's snapshots."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ppp_tracker.core.audit import Audited
from ppp_tracker.core.enums import LabelledEnum
from ppp_tracker.db import UTCDateTime, db, enum_type, utcnow


class CalendarFeed(Audited, db.Model):
    """A user's iCalendar feed address; the secret in the URL is an HMAC of `nonce`, not stored.

    Renewing draws a new nonce (the old address stops working); revoking sets `revoked_at`.
    """

    __tablename__ = "calendar_feeds"
    __audit_exclude__ = ("nonce",)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One feed per user: the unique key makes two concurrent first visits create one row.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: Random value the address's secret is derived from (with SECRET_KEY); changes on renewal.
    nonce: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def region_code(self) -> str | None:
        return self.user.region_code if self.user else None

    def __repr__(self) -> str:
        return f"<CalendarFeed {self.id} user={self.user_id} {'active' if self.active else 'off'}>"


class ImportKind(LabelledEnum):
    PARTIES = "parties"
    SITES = "sites"
    CONTRACTS = "contracts"

    @classmethod
    def _labels(cls):
        from flask_babel import lazy_gettext as _l

        return {
            "parties": _l("Counterparties"),
            "sites": _l("Production sites"),
            "contracts": _l("Contracts with milestones"),
        }


class ImportStatus(LabelledEnum):
    #: Uploaded, waiting for a worker to check it.
    QUEUED = "queued"
    VALIDATING = "validating"
    #: Checked; `errors` says whether it can be imported.
    CHECKED = "checked"
    #: The user asked to import it; waiting for a worker.
    COMMIT_QUEUED = "commit_queued"
    COMMITTING = "committing"
    #: Imported, all rows at once.
    DONE = "done"
    #: The import found errors at the last moment; nothing was saved.
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls):
        from flask_babel import lazy_gettext as _l

        return {
            "queued": _l("Waiting to be checked"),
            "validating": _l("Checking"),
            "checked": _l("Checked"),
            "commit_queued": _l("Waiting to be imported"),
            "committing": _l("Importing"),
            "done": _l("Imported"),
            "failed": _l("Not imported"),
            "cancelled": _l("Cancelled"),
        }


class ImportBatch(Audited, db.Model):
    """One uploaded file: its bytes, the check's findings per row, progress and the outcome."""

    __audit_exclude__ = ("content", "errors", "preview")
    __audit_ignore__ = ("heartbeat_at", "processed_rows")

    __tablename__ = "import_batches"
    __table_args__ = (sa.Index("ix_import_batches_region_created", "region_code", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind))
    status: Mapped[ImportStatus] = mapped_column(
        enum_type(ImportStatus), default=ImportStatus.QUEUED
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: The uploader's region (NULL: all regions); the batch is visible within that scope.
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: "xlsx" or "csv".
    file_format: Mapped[str] = mapped_column(sa.String(8))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    #: Data rows in the file (header excluded) and how many a worker has gone through so far.
    total_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: Records the import created (or would create, after a check).
    created_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: [{"row": 7, "column": "bin", "message": "…"}], row numbers as the spreadsheet shows them.
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The first rows as read, for the preview table: {"columns": [...], "rows": [[row, ...]]}.
    preview: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Last sign of life of the worker holding it; a stale claim may be taken over.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def busy(self) -> bool:
        return self.status in (
            ImportStatus.QUEUED,
            ImportStatus.VALIDATING,
            ImportStatus.COMMIT_QUEUED,
            ImportStatus.COMMITTING,
        )

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, int(100 * self.processed_rows / self.total_rows))

    def __repr__(self) -> str:
        return f"<ImportBatch {self.id} {self.kind} {self.status} {self.filename!r}>"


class DashboardSnapshot(db.Model):
    """The dashboard's figures of one scope, computed by the workers after each scan.

    The page reads one row instead of going through every late milestone of the registry; the
    figures are as old as the last scan (the page says when they were computed).
    """

    __tablename__ = "dashboard_snapshots"
    #: Pages show it: a statement changing it moves the data version (core.versions).
    __moves_data_version__ = True

    #: "*" for all regions, else the region's code (a user's scope).
    scope: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    #: The day the figures are for (penalties accrue by the day).
    as_of: Mapped[date] = mapped_column(sa.Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: `reports.dashboard.Dashboard.to_json()`.
    data: Mapped[dict] = mapped_column(sa.JSON)
    #: The scope's `DashboardGeneration` read before the figures were computed: they show the
    #: registry as it was then, and are stale once a change in the scope moved it on.
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<DashboardSnapshot {self.scope} as of {self.as_of} at {self.computed_at}>"


class DashboardChart(db.Model):
    """The dashboard's charts of one scope in one language, drawn when its figures were stored.

    Drawing the three SVG charts (a few hundred marks with translated tooltips) cost most of
    the page's time; they change only with the figures, so the workers draw them once per scope
    and language and the page inserts the stored markup (our own rendering, escaped when drawn).
    A row whose `computed_at` differs from its snapshot's is not used.
    """

    __tablename__ = "dashboard_charts"
    #: Pages show it: a statement changing it moves the data version (core.versions).
    __moves_data_version__ = True

    scope: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    #: The `computed_at` of the snapshot the charts were drawn from.
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    html: Mapped[str] = mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<DashboardChart {self.scope} {self.locale} at {self.computed_at}>"


class DashboardGeneration(db.Model):
    """How many committed changes touched the figures of one dashboard scope.

    A commit that changes a milestone, contract, project, stage or site moves the counters of
    its region and of all regions forward (`reports.snapshots`), in the same transaction; a
    snapshot remembers the counter it was computed against, so the next dashboard after a change
    computes that scope again instead of showing the figures from before it.
    """

    __tablename__ = "dashboard_generations"

    #: "*" for all regions, else the region's code (as `DashboardSnapshot.scope`).
    scope: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<DashboardGeneration {self.scope} {self.generation}>"
