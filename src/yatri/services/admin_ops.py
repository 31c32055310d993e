"""Operator work outside the catalogue text: the dashboard numbers.

Days are the operator's days (`zone`), so "today" at 01:00 in India is not yesterday in UTC.
Revenue is the total of confirmed bookings, counted on the day the booking was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from yatri.models import Booking, BookingStatus, Departure, Job, JobState, Payment, PaymentStatus
from yatri.services.seats import left_of, seats_taken_by_departure

UPCOMING_DAYS = 7
REVENUE_DAYS = 30


@dataclass(frozen=True)
class UpcomingDeparture:
    departure: Departure
    taken: int

    @property
    def left(self) -> int:
        return left_of(self.departure, self.taken)


@dataclass(frozen=True)
class Dashboard:
    today: date
    payments_waiting: int
    jobs_dead: int  # jobs that failed every try: /admin/jobs
    upcoming: list[UpcomingDeparture]
    bookings_today: int
    revenue_today_paise: int
    bookings_30d: int
    revenue_30d_paise: int
    # (day, revenue in paise) for each of the last REVENUE_DAYS days, oldest first.
    revenue_by_day: list[tuple[date, int]]


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


async def dashboard(now: datetime, zone: ZoneInfo) -> Dashboard:
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=REVENUE_DAYS - 1)

    departures = (
        await Departure.filter(
            starts_on__gte=today, starts_on__lte=today + timedelta(days=UPCOMING_DAYS), cancelled_at__isnull=True
        )
        .select_related("trip")
        .order_by("starts_on", "id")
    )
    taken = await seats_taken_by_departure([d.id for d in departures], now)

    rows = await Booking.filter(
        status=BookingStatus.CONFIRMED, created_at__gte=_day_start(first_day, zone)
    ).values_list("created_at", "total_paise")
    per_day = dict.fromkeys((first_day + timedelta(days=i) for i in range(REVENUE_DAYS)), 0)
    count_today = count_30d = 0
    for created_at, total in rows:
        day = created_at.astimezone(zone).date()
        if day in per_day:
            per_day[day] += total
            count_30d += 1
            count_today += day == today

    return Dashboard(
        today=today,
        payments_waiting=await Payment.filter(status=PaymentStatus.SUBMITTED).count(),
        jobs_dead=await Job.filter(state=JobState.DEAD).count(),
        upcoming=[UpcomingDeparture(d, taken[d.id]) for d in departures],
        bookings_today=count_today,
        revenue_today_paise=per_day[today],
        bookings_30d=count_30d,
        revenue_30d_paise=sum(per_day.values()),
        revenue_by_day=list(per_day.items()),
    )
