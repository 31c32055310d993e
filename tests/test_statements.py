"""Bank statement reconciliation: parsing (with the row and reason for bad input),
matching on both databases, a 10,000-row file in seconds, and verifying chosen matches."""

import time
from datetime import date

import pytest

from yatri import PROJECT_ROOT
from yatri.errors import ValidationError
from yatri.keys import ClockKey
from yatri.models import Booking, BookingStatus, Payment, PaymentStatus
from yatri.services import statements

from tests.helpers import login
from tests.payments_data import NOW, held_booking, operator, submitted_payment

SAMPLE = PROJECT_ROOT / "docs" / "sample-statement.csv"


@pytest.fixture
def app(app):
    app[ClockKey] = lambda: NOW
    return app


def test_the_sample_statement_reads_credits_and_their_utrs():
    rows = statements.parse_statement(SAMPLE.read_text())
    assert [(r.line, r.on, r.amount_paise, r.utrs) for r in rows] == [
        (2, date(2026, 12, 1), 2_520_050, ("401234567890",)),
        (3, date(2026, 12, 1), 1_260_000, ("401234567891",)),
        (5, date(2026, 12, 2), 840_000, ("401234567892",)),  # from the narration; the debit on row 4 is skipped
        (6, date(2026, 12, 2), 50_000, ("998877665544",)),
    ]


def test_headers_are_matched_by_name_and_amounts_are_exact():
    text = "Value Date,Amount (INR),UTR No.,Remarks\n2026-12-01,\"₹1,234.56 Cr\",4012 3456 7890,x\n01-Dec-2026,99.99 Dr,401234567891,y\n"
    [row] = statements.parse_statement(text)
    assert (row.amount_paise, row.utrs, row.on) == (123_456, ("401234567890",), date(2026, 12, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Row 1: the file is empty"),
        ("When,How much\n2026-12-01,10\n", "Row 1: missing column: date; amount; reference or narration (the header was: When, How much)"),
        ("Date,Amount\n2026-12-01,10\n", "Row 1: missing column: reference or narration"),
        ("Date,Amount,Reference\n2026-12-01,10,401234567890\n31/13/2026,10,401234567891\n", "Row 3: the date '31/13/2026' is not a date"),
        ("Date,Amount,Reference\n2026-12-01,ten,401234567890\n", "Row 2: the amount 'ten' is not a number"),
        ("Date,Amount,Reference\n2026-12-01,10.005,401234567890\n", "Row 2: the amount '10.005' has more than two decimal places"),
        ("Date,Amount,Reference\n2026-12-01,10\n", "Row 2: 2 values where the header has 3 columns"),
        ('Date,Amount,Reference\n2026-12-01,"10,401234567890\n', "not valid CSV"),
    ],
)
def test_a_malformed_statement_says_which_row_and_why(text, message):
    with pytest.raises(ValidationError) as refused:
        statements.parse_statement(text)
    assert message in refused.value.errors["statement"]


def test_every_bad_row_is_reported_up_to_ten():
    text = "Date,Amount,Reference\n" + "".join(f"2026-12-01,x{i},401234567890\n" for i in range(30))
    with pytest.raises(ValidationError) as refused:
        statements.parse_statement(text)
    assert refused.value.problems[0].startswith("Row 2:") and len(refused.value.problems) == 10


def big_statement(rows: int, matching: dict[str, int]) -> str:
    lines = ["Txn Date,Narration,Ref No,Credit"]
    lines += [f"01/12/2026,UPI/{utr}/TRAVELLER,{utr},{paise // 100}.{paise % 100:02d}" for utr, paise in matching.items()]
    lines += [f"01/12/2026,UPI/{500000000000 + i}/SOMEONE ELSE,{500000000000 + i},{100 + i % 900}.50" for i in range(rows - len(matching))]
    return "\n".join(lines) + "\n"


async def test_matching_sorts_rows_into_matches_mismatches_and_unmatched_payments(client):
    good, short, absent, done = [await held_booking() for _ in range(4)]
    p_good = await submitted_payment(good, "401234567890")
    await submitted_payment(short, "401234567891")
    p_absent = await submitted_payment(absent, "401234567899")
    await Payment.create(booking=done, method="upi_qr", amount_paise=done.total_paise, status="verified", utr="401234567893")
    text = big_statement(0, {"401234567890": good.total_paise, "401234567891": short.total_paise - 100, "401234567893": done.total_paise})
    text += "02/12/2026,UPI/401234567890/AGAIN,401234567890,10.00\n02/12/2026,UPI/777777777777/X,777777777777,5.00\n02/12/2026,NEFT RENT,,9.00\n"
    result = await statements.reconcile(statements.parse_statement(text))
    assert [m.payment.id for m in result.matches] == [p_good.id]
    assert [(m.row.line, m.reason) for m in result.mismatches] == [
        (3, "wrong amount"),
        (4, "this UTR's payment is already verified"),
        (5, "the same UTR appears on an earlier row"),
        (6, "unknown UTR"),
    ]
    assert [p.id for p in result.unmatched] == [p_absent.id]
    assert (result.rows, result.skipped) == (6, 1)


async def test_ten_thousand_rows_are_read_and_matched_in_seconds(client):
    bookings = [await held_booking() for _ in range(3)]
    for i, booking in enumerate(bookings):
        await submitted_payment(booking, f"40123456789{i}")
    text = big_statement(10_000, {f"40123456789{i}": b.total_paise for i, b in enumerate(bookings)})
    assert len(text.splitlines()) == 10_001
    started = time.perf_counter()
    result = await statements.reconcile(statements.parse_statement(text))
    assert time.perf_counter() - started < 3
    assert len(result.matches) == 3 and len(result.mismatches) == 9_997 and result.rows == 10_000


async def upload(client, token: str, text: str, **headers):
    from aiohttp import FormData

    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("statement", text.encode(), filename="statement.csv", content_type="text/csv")
    return await client.post("/admin/payments/reconcile", data=form, headers=headers)


async def test_the_operator_uploads_a_statement_and_verifies_the_chosen_matches(client, smtp_outbox):
    first, second, third = [await held_booking() for _ in range(3)]
    one, two = await submitted_payment(first, "401234567890"), await submitted_payment(second, "401234567891")
    three = await submitted_payment(third, "401234567892")
    token = await login(client, await operator())
    text = big_statement(10_000, {"401234567890": first.total_paise, "401234567891": second.total_paise, "401234567892": third.total_paise})
    started = time.perf_counter()
    response = await upload(client, token, text)
    assert time.perf_counter() - started < 10
    assert response.status == 200
    html = await response.text()
    assert "10000 credit rows read: <strong>3</strong> matches, 9997 mismatches" in html
    assert "and 9697 more not shown" in html
    values = [f"{p.id}:{p.utr}:{p.amount_paise}:{line}" for p, line in ((one, 2), (two, 3), (three, 4))]
    assert all(f'value="{v}"' in html for v in values)
    assert await Payment.filter(status=PaymentStatus.VERIFIED).count() == 0  # nothing changes on upload

    # The operator unticks the third; the second changed meanwhile (the traveller's UTR was rejected).
    await Payment.filter(id=two.id).update(status=PaymentStatus.REJECTED)
    response = await client.post(
        "/admin/payments/reconcile/verify", data={"csrf_token": token, "match": values[:2]}
    )
    html = await response.text()
    assert "Verified 1 payment from the statement" in html and "UTR 401234567891: This payment is already rejected" in html
    assert (await Booking.get(id=first.id)).status == BookingStatus.CONFIRMED
    assert (await Payment.get(id=three.id)).status == PaymentStatus.SUBMITTED
    await smtp_outbox.wait_for(1)


async def test_a_malformed_upload_names_the_row_and_changes_nothing(client):
    booking = await held_booking()
    await submitted_payment(booking, "401234567890")
    token = await login(client, await operator())
    response = await upload(client, token, "Date,Amount,Reference\n2026-12-01,25200.50,401234567890\n2026-12-01,abc,1\n")
    assert response.status == 422
    assert "Row 3: the amount &#39;abc&#39; is not a number." in await response.text()
    response = await upload(client, token, "x", **{"HX-Request": "true"})
    assert response.status == 422 and 'id="statement-problems"' in await response.text()
    assert (await Payment.get(booking_id=booking.id)).status == PaymentStatus.SUBMITTED


async def test_a_statement_over_8_mb_is_refused_before_reading():
    with pytest.raises(statements.StatementError, match="larger than 8 MB"):
        await statements.match_upload(b"x" * (statements.MAX_BYTES + 1))
