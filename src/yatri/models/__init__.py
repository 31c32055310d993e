"""Tortoise models for the whole domain, one module per area."""

from yatri.models.accounts import Role, Session, User
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
)
from yatri.models.catalogue import Departure, Destination, Difficulty, Trip, TripKind

__all__ = [
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
]
