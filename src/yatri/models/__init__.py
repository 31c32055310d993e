"""Tortoise models for the whole domain, one module per area.

No semicolon in a model docstring: Tortoise 1.1 copies docstrings into the SQLite schema
as comments and then splits the statement at the semicolon.
"""

from yatri.models.accounts import AccountToken, LoginAttempt, RefreshToken, Role, Session, TokenPurpose, User
from yatri.models.audit import AuditLog
from yatri.models.booking import (
    Booking,
    BookingStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    Traveller,
    WebhookEvent,
)
from yatri.models.catalogue import CatalogueVersion, Departure, Destination, Difficulty, Trip, TripKind
from yatri.models.jobs import Job, JobState
from yatri.models.limits import RateCounter
from yatri.models.waitlist import WaitlistEntry, WaitlistStatus

__all__ = [
    "AccountToken",
    "CatalogueVersion",
    "Job",
    "JobState",
    "LoginAttempt",
    "RateCounter",
    "RefreshToken",
    "TokenPurpose",
    "WebhookEvent",
    "AuditLog",
    "Booking",
    "BookingStatus",
    "Departure",
    "Destination",
    "Difficulty",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "Refund",
    "RefundStatus",
    "Role",
    "Session",
    "Traveller",
    "Trip",
    "TripKind",
    "User",
    "WaitlistEntry",
    "WaitlistStatus",
]
