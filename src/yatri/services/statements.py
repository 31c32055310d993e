"""Bank statement reconciliation: read the operator's CSV statement and match its credits
to submitted UPI payments by UTR and amount.

Column mapping (header names compared without case, spaces or punctuation, so
"Txn Date", "txn_date" and "TXN-DATE" are the same):

| meaning   | accepted headers |
|-----------|------------------|
| date      | date, txn date, transaction date, value date, tran date, posting date |
| amount    | amount, credit, credit amount, deposit, deposit amount, cr amount, amount inr |
| reference | reference, utr, utr no, utr number, reference no, ref no, reference number, chq ref no, cheque ref no, transaction reference, transaction id |
| narration | narration, description, particulars, remarks, details, transaction details |

Date and amount are required, with reference or narration (or both). The UTR is the
reference when that is 12 digits, otherwise a 12-digit number in the narration (e.g.
"UPI/334455667788/ASHA RAO/..."). Rows with an empty, zero, negative or "Dr" amount are
debits and are skipped. Dates: 2026-12-01, 01/12/2026, 01-12-2026, 01-Dec-2026,
01 Dec 2026 (day first, as Indian banks print them).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from yatri.errors import ValidationError
from yatri.models import Payment, PaymentMethod, PaymentStatus

MAX_BYTES = 8 * 1024 * 1024
MAX_ROWS = 50_000
MAX_PROBLEMS = 10
HEADERS = {
    "date": {"date", "txndate", "transactiondate", "valuedate", "trandate", "postingdate"},
    "amount": {"amount", "credit", "creditamount", "deposit", "depositamount", "cramount", "amountinr"},
    "reference": {
        "reference", "utr", "utrno", "utrnumber", "referenceno", "refno", "referencenumber", "chqrefno",
        "chequerefno", "transactionreference", "transactionid",
    },  # fmt: skip
    "narration": {"narration", "description", "particulars", "remarks", "details", "transactiondetails"},
}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d-%b-%Y", "%d %b %Y", "%d/%m/%y", "%d-%b-%y")
_UTR_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_AMOUNT = re.compile(r"[+-]?[0-9]{1,15}(?:\.[0-9]{1,15})?")
_CR_DR = re.compile(r"\s*(cr|dr)$", re.IGNORECASE)


@dataclass(frozen=True)
class StatementRow:
    line: int
    on: date
    amount_paise: int
    utrs: tuple[str, ...]  # candidates, the reference column's first
    narration: str


@dataclass(frozen=True)
class Match:
    row: StatementRow
    payment: Payment


@dataclass(frozen=True)
class Mismatch:
    row: StatementRow
    reason: str
    payment: Payment | None = None


@dataclass
class Reconciliation:
    rows: int = 0  # credit rows read
    skipped: int = 0  # credit rows without any UTR
    matches: list[Match] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    unmatched: list[Payment] = field(default_factory=list)


class StatementError(ValidationError):
    """A statement that cannot be read; `problems` lists each bad row and why."""

    def __init__(self, problems: list[str]) -> None:
        more = " (the first ten problems; fix them and upload again)" if len(problems) >= MAX_PROBLEMS else ""
        super().__init__({"statement": " ".join(problems) + more})
        self.problems = problems



async def match_upload(data: bytes) -> Reconciliation:
    """An uploaded statement file, read and matched (nothing changes)."""
    if len(data) > MAX_BYTES:
        raise StatementError([f"The statement is larger than {MAX_BYTES // 1024 // 1024} MB; split it into smaller files."])
    return await reconcile(parse_statement(decode(data)))


def decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's byte-order mark), else Windows-1252 as older bank exports use."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_statement(text: str) -> list[StatementRow]:
    """Credit rows of a statement; StatementError naming each bad row (by its line) and why."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        columns = _columns(header)
        rows, problems = [], []
        for values in reader:
            if len(rows) >= MAX_ROWS:
                raise StatementError([f"The statement has more than {MAX_ROWS:,} rows; split it into smaller files."])
            if not any(v.strip() for v in values):
                continue
            try:
                row = _row(reader.line_num, values, columns, len(header))
            except ValueError as exc:
                problems.append(f"Row {reader.line_num}: {exc}")
                if len(problems) >= MAX_PROBLEMS:
                    break
                continue
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise StatementError([f"Row {reader.line_num}: this is not valid CSV ({exc})."]) from None
    if problems:
        raise StatementError(problems)
    return rows


def _columns(header: list[str] | None) -> dict[str, int]:
    if not header or not any(h.strip() for h in header):
        raise StatementError(["Row 1: the file is empty; the first row must name the columns (date, amount, reference, narration)."])
    found = {}
    for index, name in enumerate(header):
        key = _NOT_ALNUM.sub("", name.lower())
        for meaning, names in HEADERS.items():
            if key in names and meaning not in found:
                found[meaning] = index
    missing = [m for m in ("date", "amount") if m not in found]
    if "reference" not in found and "narration" not in found:
        missing.append("reference or narration")
    if missing:
        raise StatementError(
            [f"Row 1: missing column: {'; '.join(missing)} (the header was: {', '.join(header)}). See the column mapping."]
        )
    return found


def _row(line: int, values: list[str], columns: dict[str, int], width: int) -> StatementRow | None:
    if len(values) < width:
        raise ValueError(f"{len(values)} values where the header has {width} columns.")
    amount = _amount(values[columns["amount"]])
    if amount is None:
        return None  # a debit
    reference = values[columns["reference"]].strip() if "reference" in columns else ""
    narration = values[columns["narration"]].strip() if "narration" in columns else ""
    utrs = tuple(dict.fromkeys([*_UTR_IN_TEXT.findall("".join(reference.split())), *_UTR_IN_TEXT.findall(narration)]))
    return StatementRow(line, _date(values[columns["date"]]), amount, utrs, narration)


def _amount(raw: str) -> int | None:
    text = raw.strip().replace(",", "").replace("₹", "").replace("INR", "").strip()
    debit = text.lower().endswith("dr")
    text = _CR_DR.sub("", text)
    if not text:
        return None
    if not _AMOUNT.fullmatch(text):  # ASCII digits only: Decimal takes '١٢' and '1e999999' too
        raise ValueError(f"the amount {raw.strip()!r} is not a number.")
    rupees = Decimal(text)
    if rupees != rupees.quantize(Decimal("0.01")):
        raise ValueError(f"the amount {raw.strip()!r} has more than two decimal places.")
    if debit or rupees <= 0:
        return None
    return int(rupees * 100)


@functools.lru_cache(maxsize=1024)  # a statement repeats a few dates thousands of times
def _date(raw: str) -> date:
    text = raw.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"the date {text!r} is not a date (use 2026-12-01 or 01/12/2026).")


async def reconcile(rows: list[StatementRow]) -> Reconciliation:
    """Match credits to submitted UPI payments: same UTR and same amount. Two queries, whatever the size."""
    submitted = {
        p.utr: p
        for p in await Payment.filter(status=PaymentStatus.SUBMITTED, method=PaymentMethod.UPI_QR)
        .prefetch_related("booking__user")
        .order_by("submitted_at", "id")
    }
    candidates = {utr for row in rows for utr in row.utrs}
    done = {
        p.utr: p
        for p in await Payment.filter(utr__in=list(candidates - submitted.keys()))
        .exclude(status=PaymentStatus.SUBMITTED)
        .prefetch_related("booking")
    } if candidates else {}  # fmt: skip
    result, seen = Reconciliation(), set()
    for row in rows:
        result.rows += 1
        if not row.utrs:
            result.skipped += 1
            continue
        _place(row, submitted, done, seen, result)
    result.unmatched = [p for utr, p in submitted.items() if utr not in seen]
    return result


def _place(row: StatementRow, submitted: dict, done: dict, seen: set, result: Reconciliation) -> None:
    utr = next((u for u in row.utrs if u in submitted), None)
    if utr is not None:
        payment = submitted[utr]
        if utr in seen:
            result.mismatches.append(Mismatch(row, "the same UTR appears on an earlier row", payment))
        elif row.amount_paise != payment.amount_paise:
            seen.add(utr)
            result.mismatches.append(Mismatch(row, "wrong amount", payment))
        else:
            seen.add(utr)
            result.matches.append(Match(row, payment))
        return
    utr = next((u for u in row.utrs if u in done), None)
    if utr is not None:
        result.mismatches.append(Mismatch(row, f"this UTR's payment is already {done[utr].status}", done[utr]))
    else:
        result.mismatches.append(Mismatch(row, "unknown UTR"))
