"""Every shape of the JSON API: request bodies, queries and responses.

The OpenAPI document is generated from these (api/openapi.py); enums are the models'
and services' own, so a value the code can return is a value the document allows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from yatri.api.admin_values import rule
from yatri.api.contract import Body, Query, Schema, said
from yatri.models import (
    BookingStatus,
    Difficulty,
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
    Role,
    TripKind,
)
from yatri.parsing import MAX_ID, FieldError, day
from yatri.services.admin_departures import DepartureState
from yatri.services.booking import MAX_SEATS
from yatri.services.catalogue import SaleState
from yatri.services.travellers import GENDERS, MAX_AGE, MIN_AGE

Paise = Annotated[int, Field(description="An amount in paise (1 rupee = 100 paise)")]
OrNull = "This field must be a string or null."

# ---------------------------------------------------------------- problems


class FieldProblem(BaseModel):
    field: str = Field(description="The field's path in the request, like travellers[0].age")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="about:blank (the title is the HTTP status phrase) or /problems/<slug>")
    title: str
    status: int
    detail: str
    instance: str = ""
    request_id: str = ""
    errors: list[FieldProblem] = []


# ---------------------------------------------------------------- tokens


class Credentials(Body):
    email: str
    password: str


class GoogleIdToken(Body):
    id_token: str = Field(description="The ID token Google Sign-In gave the app")


class RefreshRequest(Body):
    refresh_token: str


class TokenPair(Schema):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds the access token is valid for")
    refresh_token: str


# ---------------------------------------------------------------- the signed-in user


class User(Schema):
    id: int
    email: str
    name: str
    phone: str | None
    role: Role
    email_verified: bool
    version: int = Field(description='Goes up on every change; the ETag is "v<version>"')


class ProfileChange(Body):
    """The fields to change; an empty or null phone clears it."""

    unknown_field: ClassVar[str] = "This field cannot be changed here."
    name: Annotated[str | None, said(OrNull)] = None
    phone: Annotated[str | None, said(OrNull)] = None


# ---------------------------------------------------------------- catalogue


class Destination(Schema):
    slug: str
    name: str
    region: str
    description: str


class DestinationList(Schema):
    items: list[Destination]


class ItineraryDay(Schema):
    day: int
    title: str
    details: str


class PolicyTier(Schema):
    min_days: int = Field(description="Cancelled this many days or more before departure...")
    percent: int = Field(description="...gives back this percent of what was paid")


class GroupRate(Schema):
    min_travellers: int = Field(description="This many travellers or more in one booking...")
    percent: int = Field(description="...get this percent off the price before GST")


class TripCard(Schema):
    """What every view of a trip shows (a base: each view is one whole schema)."""

    slug: str
    title: str
    kind: TripKind
    destination: str = Field(description="The destination's slug")
    days: int
    difficulty: Difficulty
    price_paise: Paise = Field(description="Price per person before GST (the taxable value)")
    gst_percent: int = Field(description="GST on this trip, in whole percent")
    price_with_gst_paise: Paise = Field(description="Price per person with GST: what a traveller pays")
    summary: str


class TripPage(TripCard):
    """What a trip's own page shows besides its card (a base)."""

    description: str
    itinerary: list[ItineraryDay]
    inclusions: list[str]
    exclusions: list[str]
    cancellation_policy: list[PolicyTier]
    group_discounts: list[GroupRate]
    max_per_booking: int


class TripSummary(TripCard):
    next_departure: date | None


class DestinationDetail(Destination):
    trips: list[TripSummary]


class TripList(Schema):
    items: list[TripSummary]
    total: int
    page: int
    pages: int


class TripQuery(Query):
    """The filters of the /trips page, read by the same parser."""

    q: str = Field("", description="Words in the title, destination or description")
    destination: str = Field("", description="A destination slug")
    kind: str = Field("", description="trek, tour or event")
    from_: str = Field("", alias="from", description="Departures on or after this date (YYYY-MM-DD)")
    to: str = Field("", description="Departures on or before this date (YYYY-MM-DD)")
    min_price: str = Field("", description="Lowest price per person in rupees")
    max_price: str = Field("", description="Highest price per person in rupees")
    difficulty: str = Field("", description="easy, moderate or challenging")
    sort: str = Field("", description="next, price, price_desc or duration")
    page: str = Field("", description="Page number, from 1")


class Departure(Schema):
    id: int
    starts_on: date
    ends_on: date
    price_paise: Paise = Field(description="Price per person before GST")
    price_with_gst_paise: Paise = Field(description="Price per person with GST: what a traveller pays")
    capacity: int
    seats_left: int
    state: SaleState


class TripDetail(TripPage):
    next_departure: date | None
    departures: list[Departure]


# ---------------------------------------------------------------- bookings


class TravellerInput(Body):
    """One traveller. The first is the lead: phone, email and an emergency contact are required for them."""

    model_config = ConfigDict(extra="ignore")
    full_name: Annotated[str, said("This field must be a string.")]
    age: int = Field(description=f"Whole years, from {MIN_AGE} to {MAX_AGE}")
    gender: Annotated[str | None, said(OrNull)] = Field(None, description="One of: " + ", ".join(map(repr, GENDERS)))
    phone: Annotated[str | None, said(OrNull)] = None
    email: Annotated[str | None, said(OrNull)] = None
    emergency_contact_name: Annotated[str | None, said(OrNull)] = None
    emergency_contact_phone: Annotated[str | None, said(OrNull)] = None


class BookingRequest(Body):
    departure_id: Annotated[int, Field(ge=1, le=MAX_ID), said(f"This field must be a whole number from 1 to {MAX_ID}.")]
    travellers: Annotated[
        list[TravellerInput],
        Field(min_length=1),
        said("Send a list of travellers, one object each; the first is the lead traveller."),
    ]


class QuoteRequest(Body):
    departure_id: Annotated[int, Field(ge=1, le=MAX_ID), said(f"This field must be a whole number from 1 to {MAX_ID}.")]
    travellers: Annotated[int, Field(ge=1, le=MAX_SEATS), said(f"Send the number of travellers, from 1 to {MAX_SEATS}.")]


class Quote(Schema):
    """What the booking would cost now; one line: unit price × travellers, less the group
    rate, plus GST, each rounded once on the line."""

    departure_id: int
    travellers: int
    unit_price_paise: Paise = Field(description="Per person, before GST")
    list_paise: Paise = Field(description="unit_price_paise × travellers")
    discount_percent: int = Field(description="The trip's group rate for this many travellers")
    discount_paise: Paise
    subtotal_paise: Paise = Field(description="The taxable value: list less the discount")
    gst_percent: int
    gst_paise: Paise
    total_paise: Paise = Field(description="What holding these seats would ask to pay")


class Traveller(Schema):
    full_name: str
    age: int
    gender: str | None
    phone: str | None
    email: str | None
    emergency_contact_name: str | None
    emergency_contact_phone: str | None


class BookingTrip(Schema):
    slug: str
    title: str


class BookingDeparture(Schema):
    id: int
    starts_on: date
    ends_on: date


class Booking(Schema):
    reference: str
    status: BookingStatus
    status_label: str
    seats: int
    unit_price_paise: Paise
    discount_percent: int = Field(description="The group rate taken off unit price × seats")
    discount_paise: Paise
    subtotal_paise: Paise = Field(description="The taxable value: unit price × seats less the discount")
    gst_paise: Paise
    gst_percent: int | None = Field(description="The GST rate charged; null on old bookings")
    total_paise: Paise = Field(description="What to pay, in paise")
    hold_expires_at: datetime | None = Field(description="Pay before this or the seats go")
    created_at: datetime
    cancelled_at: datetime | None
    trip: BookingTrip
    departure: BookingDeparture


class PaymentLine(Schema):
    method: PaymentMethod
    amount_paise: Paise
    status: PaymentStatus
    utr: str | None
    submitted_at: datetime | None
    rejection_reason: str | None


class RefundLine(Schema):
    amount_paise: Paise
    status: RefundStatus
    reason: str


class RefundQuote(Schema):
    """What cancelling today gives back."""

    days_before: int
    percent: int
    paid_paise: Paise
    amount_paise: Paise


class BookingActions(Schema):
    """What the owner may do with the booking now (the rules the pages ask too)."""

    pay: bool = Field(description="A UTR may be sent to /api/v1/bookings/{ref}/payment")
    cancel: bool
    edit_travellers: bool = Field(description="On the booking page")


class BookingDetail(Booking):
    travellers: list[Traveller]
    payments: list[PaymentLine]
    refunds: list[RefundLine]
    refund_quote: RefundQuote | None = Field(description="null when the booking cannot be cancelled")
    actions: BookingActions


class BookingList(Schema):
    upcoming: list[Booking]
    past: list[Booking]
    ended: list[Booking]


# ---------------------------------------------------------------- payments


class UtrSubmission(Body):
    utr: str = Field(description="The 12-digit UPI transaction reference")


class PaymentInfo(Schema):
    reference: str
    status: BookingStatus
    payable: bool = Field(description="Whether a UTR can be sent now")
    amount_paise: Paise
    hold_expires_at: datetime | None
    payee_name: str
    vpa: str
    upi_link: str = Field(description="The upi://pay deep link")
    qr_svg: str = Field(description="The link as an SVG QR code")
    payments: list[PaymentLine]
    refunds: list[RefundLine]


# ---------------------------------------------------------------- the operator's API


class AdminTrip(TripPage):
    id: int
    featured: bool
    is_published: bool
    version: int = Field(description='The ETag is "v<version>"')


class AdminTripList(Schema):
    items: list[AdminTrip]


class AdminTripQuery(Query):
    q: str = Field("", description="Words in the title, slug or destination")
    status: str = Field("", description="all, published or draft")


class GroupRateInput(BaseModel):
    model_config = ConfigDict(strict=True)
    min_travellers: int
    percent: int


class PolicyTierInput(BaseModel):
    model_config = ConfigDict(strict=True)
    min_days: int
    percent: int


# Each trip field is checked by its admin form rule (api/admin_values.py), every problem at once.
Title = Annotated[str, rule("title")]
Slug = Annotated[str, rule("slug")]
Kind = Annotated[TripKind, rule("kind")]
DestinationSlug = Annotated[str, rule("destination"), Field(description="The slug of an existing destination")]
Days = Annotated[int, rule("days")]
Level = Annotated[Difficulty, rule("difficulty")]
Price = Annotated[int, rule("price_paise"), Field(description="Price per person in paise")]
Summary = Annotated[str, rule("summary")]
Description = Annotated[str, rule("description")]
Lines = Annotated[list[str], rule("inclusions")]
NotIncluded = Annotated[list[str], rule("exclusions")]
Policy = Annotated[list[PolicyTierInput], rule("cancellation_policy")]
GroupRates = Annotated[list[GroupRateInput], rule("group_discounts")]
MostSeats = Annotated[int, rule("max_per_booking")]
GstRate = Annotated[int, rule("gst_percent"), Field(description="GST in whole percent; a new trip starts with GST_PERCENT")]
Featured = Annotated[bool, rule("featured")]


class TripChange(Body):
    """Trip fields to set; the same rules and messages as the admin pages."""

    title: Title | None = None
    slug: Slug | None = None
    kind: Kind | None = None
    destination: DestinationSlug | None = None
    days: Days | None = None
    difficulty: Level | None = None
    price_paise: Price | None = None
    gst_percent: GstRate | None = None
    summary: Summary | None = None
    description: Description | None = None
    inclusions: Lines | None = None
    exclusions: NotIncluded | None = None
    cancellation_policy: Policy | None = None
    group_discounts: GroupRates | None = None
    max_per_booking: MostSeats | None = None
    featured: Featured | None = None


class TripInput(TripChange):
    """A new trip (a draft until published); the slug defaults to one made from the title."""

    title: Title
    kind: Kind
    destination: DestinationSlug
    days: Days
    difficulty: Level
    price_paise: Price
    summary: Summary


class AdminDeparture(Schema):
    id: int
    trip_id: int
    starts_on: date
    ends_on: date
    capacity: int
    price_paise: Paise | None = Field(description="null: the trip's price")
    unit_price_paise: Paise
    seats_taken: int
    seats_left: int
    sales_closed: bool
    cancelled_at: datetime | None
    state: DepartureState


class AdminDepartureList(Schema):
    upcoming: list[AdminDeparture]
    past: list[AdminDeparture]


def day_of(label: str) -> BeforeValidator:
    """A YYYY-MM-DD date, read by the same rule (and message) as the admin form's."""

    def parse(value: object) -> object:
        try:
            return value if value is None else day(value, label)
        except FieldError as exc:
            raise PydanticCustomError("day", str(exc)) from None

    return BeforeValidator(parse)


class DepartureInput(Body):
    starts_on: Annotated[date, day_of("start date")]
    ends_on: Annotated[date | None, day_of("end date")] = Field(None, description="Defaults to the start plus the trip's days")
    capacity: int
    price_paise: Paise | None = Field(None, description="Leave out for the trip's price")


class DepartureChange(Body):
    unknown_field: ClassVar[str] = "This field cannot be changed here."
    capacity: int | None = None
    sales_closed: bool | None = None


class DepartureCancel(Body):
    reason: str = ""


class DepartureCancelled(Schema):
    departure: AdminDeparture
    cancelled_bookings: list[str] = Field(description="References, each refunded in full")
