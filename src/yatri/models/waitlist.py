from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class WaitlistStatus(StrEnum):
    WAITING = "waiting"  # in the line
    OFFERED = "offered"  # seats held for the entry until offer_expires_at
    BOOKED = "booked"  # the offer was taken: booking holds the seats now
    LEFT = "left"  # the traveller left the line
    LAPSED = "lapsed"  # the offer ran out unbooked
    CLOSED = "closed"  # the departure was cancelled


class WaitlistEntry(Model):
    """A traveller waiting for seats on a sold-out departure, with the size of their party.
    An offered entry's seats count as taken (services.seats) until its offer lapses."""

    id = fields.IntField(primary_key=True)
    departure = fields.ForeignKeyField("models.Departure", related_name="waitlist", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("models.User", related_name="waitlist_entries", on_delete=fields.CASCADE)
    party_size = fields.SmallIntField()
    status = fields.CharEnumField(WaitlistStatus, max_length=12)
    offered_at = fields.DatetimeField(null=True)
    offer_expires_at = fields.DatetimeField(null=True)
    booking = fields.ForeignKeyField("models.Booking", related_name="waitlist_entry", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "waitlist_entries"
        # The line of a departure and the offered seats of the seat count.
        indexes = (("departure_id", "status"),)
