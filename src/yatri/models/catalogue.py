from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class TripKind(StrEnum):
    TREK = "trek"
    TOUR = "tour"
    EVENT = "event"


class Difficulty(StrEnum):
    EASY = "easy"
    MODERATE = "moderate"
    CHALLENGING = "challenging"


class Destination(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=80, unique=True)
    name = fields.CharField(max_length=120)
    region = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    # A list of {"url", "alt", "width", "height"} from the media service.
    images = fields.JSONField(default=list)
    # Optimistic locking for admin edits: a save names the version it started from.
    version = fields.IntField(default=1)
    updated_by = fields.ForeignKeyField(
        "models.User", related_name="destinations_updated", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "destinations"
        ordering = ["name"]


class Trip(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=120, unique=True)
    title = fields.CharField(max_length=160)
    kind = fields.CharEnumField(TripKind, max_length=8)
    destination = fields.ForeignKeyField(
        "models.Destination", related_name="trips", on_delete=fields.RESTRICT
    )
    days = fields.SmallIntField()
    difficulty = fields.CharEnumField(Difficulty, max_length=16)
    # Before GST: the taxable value per person. Travellers see it with GST at `gst_percent`.
    price_paise = fields.BigIntField()
    # GST on this trip in whole percent (tour operator services 5, events may differ);
    # a new trip starts with the GST_PERCENT setting.
    gst_percent = fields.SmallIntField(default=5, db_default=5)
    summary = fields.CharField(max_length=300)
    description = fields.TextField(default="")
    # [{"day": 1, "title": "...", "details": "..."}]
    itinerary = fields.JSONField(default=list)
    inclusions = fields.JSONField(default=list)
    exclusions = fields.JSONField(default=list)
    # Refund tiers by days before departure: [{"min_days": 30, "percent": 90}, ...]
    cancellation_policy = fields.JSONField(default=list)
    # Group rates: this many travellers or more in one booking get a percent off the price
    # before GST: [{"min_travellers": 6, "percent": 10}, ...]
    group_discounts = fields.JSONField(default=list, db_default="[]")
    max_per_booking = fields.SmallIntField(default=10)
    images = fields.JSONField(default=list)
    featured = fields.BooleanField(default=False)
    is_published = fields.BooleanField(default=False, db_index=True)
    # Optimistic locking for admin edits: a save names the version it started from.
    version = fields.IntField(default=1)
    updated_by = fields.ForeignKeyField(
        "models.User", related_name="trips_updated", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "trips"
        ordering = ["title"]


class Departure(Model):
    id = fields.IntField(primary_key=True)
    trip = fields.ForeignKeyField("models.Trip", related_name="departures", on_delete=fields.CASCADE)
    starts_on = fields.DateField(db_index=True)
    ends_on = fields.DateField()
    capacity = fields.SmallIntField()
    # Overrides the trip's price for this run when set.
    price_paise = fields.BigIntField(null=True)
    # The operator stopped selling seats; existing bookings stand.
    sales_closed = fields.BooleanField(default=False)
    # The operator cancelled the run: every booking on it is cancelled and refunded in full.
    cancelled_at = fields.DatetimeField(null=True)
    # How long seats freed for a waiting-list entry are held for it (services.waitlist).
    offer_hours = fields.SmallIntField(default=12, db_default=12)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "departures"
        ordering = ["starts_on"]
        unique_together = (("trip", "starts_on"),)
        # A trip's next departure (the /trips sort, one seek per trip). SQLite lost the
        # unique index above when migration 0003 rebuilt the table; this one serves both.
        indexes = (("trip_id", "starts_on"),)

    @property
    def unit_price_paise(self) -> int:
        return self.price_paise if self.price_paise is not None else self.trip.price_paise


class CatalogueVersion(Model):
    """One row whose number goes up on every catalogue change, so that every server
    process knows when its cached catalogue queries are stale."""

    id = fields.IntField(primary_key=True)
    version = fields.BigIntField(default=1)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "catalogue_version"
