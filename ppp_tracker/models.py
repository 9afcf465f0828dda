"""Imports every feature's models so that SQLAlchemy and Alembic see the whole schema."""

import ppp_tracker.alerts.models  # noqa: F401 - reminder rules, plans, alerts, digests, scan runs
from ppp_tracker.auth.models import ApiToken, LoginThrottle, User  # noqa: F401
from ppp_tracker.claims import models as claims_models  # noqa: F401
from ppp_tracker.core.audit import AuditEvent  # noqa: F401
from ppp_tracker.core.audit_chain import AuditChainHead, AuditLink  # noqa: F401
from ppp_tracker.core.calendar import CalendarOverride, CalendarYear  # noqa: F401
from ppp_tracker.core.mail import OutboxMessage  # noqa: F401
from ppp_tracker.core.regions import Region  # noqa: F401
from ppp_tracker.core.versions import DataVersion  # noqa: F401
from ppp_tracker.registry.models import (  # noqa: F401
    Contract,
    Document,
    DueDateChange,
    Installment,
    Institution,
    Milestone,
    Party,
    ProductionSite,
    Project,
    ProjectStage,
)
from ppp_tracker.reports.models import CalendarFeed, DashboardSnapshot, ImportBatch  # noqa: F401
