"""What /metrics reports about the business, read from the database at scrape time (so
every worker, and every machine, reports the same numbers), and when the last backup
finished (a small file that `yatri backup` writes beside the media).

Read-only queries; nothing here changes a row. Jobs are counted on the real clock (their
run_at is), the rest on the app's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tortoise.functions import Count

from yatri.models import Booking, BookingStatus, Payment, PaymentStatus
from yatri.services import jobs
from yatri.services.seats import HOLDING_STATUSES

BACKUP_STAMP = "last-backup.json"


@dataclass(frozen=True)
class Snapshot:
    bookings: dict[str, int]  # every status, zero included
    payments_waiting: int  # submitted UTRs the operator has not verified or rejected
    oldest_payment_waiting_seconds: float  # 0 when none waits
    holds_open: int  # bookings whose seats count until their hold lapses
    holds_lapsed: int  # lapsed but not yet marked expired: the expiry job is behind
    jobs: jobs.Backlog  # jobs by state, due ones waiting for a worker, the oldest wait


async def snapshot(now: datetime) -> Snapshot:
    counts = dict(
        await Booking.annotate(n=Count("id")).group_by("status").values_list("status", "n")
    )
    waiting = Payment.filter(status=PaymentStatus.SUBMITTED)
    oldest = await waiting.order_by("submitted_at").first().values_list("submitted_at", flat=True)
    holding = Booking.filter(status__in=HOLDING_STATUSES)
    return Snapshot(
        bookings={status.value: counts.get(status.value, 0) for status in BookingStatus},
        payments_waiting=await waiting.count(),
        oldest_payment_waiting_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        holds_open=await holding.filter(hold_expires_at__gt=now).count(),
        holds_lapsed=await holding.filter(hold_expires_at__lte=now).count(),
        jobs=await jobs.backlog(),
    )


def record_backup(var_dir: Path, file: Path, finished_at: datetime) -> None:
    """Called by `yatri backup` once the archive is complete."""
    stamp = {"finished_at": finished_at.timestamp(), "file": str(file), "bytes": file.stat().st_size}
    var_dir.mkdir(parents=True, exist_ok=True)
    temporary = var_dir / (BACKUP_STAMP + ".tmp")
    temporary.write_text(json.dumps(stamp))
    temporary.replace(var_dir / BACKUP_STAMP)  # a scrape never reads half a file


def last_backup(var_dir: Path) -> dict | None:
    """{"finished_at": epoch seconds, "file", "bytes"} of the last backup, or None."""
    try:
        return json.loads((var_dir / BACKUP_STAMP).read_text())
    except (OSError, ValueError):
        return None
