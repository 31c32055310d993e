from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class BookingStatus(StrEnum):
    HELD = "held"
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_SUBMITTED = "payment_submitted"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    EXPIRED = "expired"


class PaymentMethod(StrEnum):
    UPI_QR = "upi_qr"
    GATEWAY = "gateway"


class PaymentStatus(StrEnum):
    INITIATED = "initiated"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"


class Booking(Model):
    id = fields.IntField(primary_key=True)
    reference = fields.CharField(max_length=12, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="bookings", on_delete=fields.RESTRICT)
    departure = fields.ForeignKeyField(
        "models.Departure", related_name="bookings", on_delete=fields.RESTRICT
    )
    seats = fields.SmallIntField()
    status = fields.CharEnumField(BookingStatus, max_length=20, db_index=True)
    unit_price_paise = fields.BigIntField()
    subtotal_paise = fields.BigIntField()
    gst_paise = fields.BigIntField()
    # The group rate: `discount_percent` off unit × seats, already taken out of subtotal_paise.
    discount_percent = fields.SmallIntField(default=0, db_default=0)
    discount_paise = fields.BigIntField(default=0, db_default=0)
    # The GST rate charged (the trip's at booking); null on bookings made before it was kept.
    gst_percent = fields.SmallIntField(null=True)
    total_paise = fields.BigIntField()
    hold_expires_at = fields.DatetimeField(null=True)
    # Sent with the confirm form so a double tap creates one booking.
    idempotency_key = fields.CharField(max_length=64, null=True, unique=True)
    version = fields.IntField(default=1)
    cancelled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bookings"
        # Seat counts (services.seats) per departure and status; a traveller's bookings.
        indexes = (("departure_id", "status"), ("user_id",))


class Traveller(Model):
    id = fields.IntField(primary_key=True)
    booking = fields.ForeignKeyField(
        "models.Booking", related_name="travellers", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField()
    full_name = fields.CharField(max_length=120)
    age = fields.SmallIntField()
    gender = fields.CharField(max_length=20, null=True)
    phone = fields.CharField(max_length=20, null=True)
    email = fields.CharField(max_length=254, null=True)
    emergency_contact_name = fields.CharField(max_length=120, null=True)
    emergency_contact_phone = fields.CharField(max_length=20, null=True)

    class Meta:
        table = "travellers"
        ordering = ["position"]
        unique_together = (("booking", "position"),)

    @property
    def is_lead(self) -> bool:
        return self.position == 1


class Payment(Model):
    id = fields.IntField(primary_key=True)
    booking = fields.ForeignKeyField(
        "models.Booking", related_name="payments", on_delete=fields.RESTRICT
    )
    method = fields.CharEnumField(PaymentMethod, max_length=16)
    amount_paise = fields.BigIntField()
    status = fields.CharEnumField(PaymentStatus, max_length=16, db_index=True)
    # The 12-digit UPI transaction reference; one payment per UTR.
    utr = fields.CharField(max_length=12, null=True, unique=True)
    gateway_payment_id = fields.CharField(max_length=64, null=True, unique=True)
    rejection_reason = fields.CharField(max_length=300, null=True)
    submitted_at = fields.DatetimeField(null=True)
    verified_at = fields.DatetimeField(null=True)
    verified_by = fields.ForeignKeyField(
        "models.User", related_name="verified_payments", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "payments"
        indexes = (("booking_id",),)  # a booking's payments (detail, cancel, refund)


class Refund(Model):
    id = fields.IntField(primary_key=True)
    booking = fields.ForeignKeyField(
        "models.Booking", related_name="refunds", on_delete=fields.RESTRICT
    )
    payment = fields.ForeignKeyField(
        "models.Payment", related_name="refunds", null=True, on_delete=fields.RESTRICT
    )
    amount_paise = fields.BigIntField()
    status = fields.CharEnumField(RefundStatus, max_length=16, default=RefundStatus.PENDING)
    reason = fields.CharField(max_length=300, default="")
    # The bank or gateway reference of the payout.
    reference = fields.CharField(max_length=64, null=True)
    paid_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "refunds"


class WebhookEvent(Model):
    """A payment gateway event already handled. A replay of the same id is ignored."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=20)
    event_id = fields.CharField(max_length=100)
    event_type = fields.CharField(max_length=60)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_events"
        unique_together = (("provider", "event_id"),)
