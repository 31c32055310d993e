"""/admin/payments and /admin/refunds: the verification queue, bank statement
reconciliation, refunds to pay.

A verify or reject form answers HTMX with its queue row (the outcome, or the form again
with the error in place) and a plain form post with a redirect back to the queue.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from yatri.errors import Conflict, ValidationError
from yatri.keys import NotifierKey, SettingsKey
from yatri.models import Payment
from yatri.parsing import record_id, whole_number
from yatri.services import payments, statements
from yatri.services.refunds import mark_refund_paid, pending_refunds, recent_refunds
from yatri.web.admin.common import admin
from yatri.web.clock import now, today
from yatri.web.auth import flash
from yatri.web.forms import read_form
from yatri.web.render import is_htmx, render

SHOWN_PER_LIST = 300  # a statement's long tail of unrelated credits is counted, not all listed


async def _queue_context() -> dict:
    return {
        "queue": await payments.submitted_payments(),
        "refunds": await pending_refunds(),
        "row_errors": {},
        "reasons": {},
        "admin_section": "payments",
    }


async def queue(request: web.Request) -> web.Response:
    return render(request, "admin/payments.html", await _queue_context(), fragment="fragments/admin/payment_queue.html")


async def _row_answer(
    request: web.Request, payment_id: int, done: str | None, errors: dict, status: int = 200, reason: str = ""
) -> web.Response:
    if is_htmx(request):
        payment = await Payment.get(id=payment_id).prefetch_related("booking__user", "booking__departure__trip")
        context = {"payment": payment, "done": done, "errors": errors, "reason": reason}
        return render(request, "fragments/admin/payment_row.html", context, status=status)
    if done or "__all__" in errors:
        await flash(request, done or errors["__all__"], "success" if done else "error")
        raise web.HTTPSeeOther("/admin/payments")
    # A refused reason without JavaScript: the queue again, the message next to the field, the text kept.
    context = await _queue_context()
    context.update(row_errors={payment_id: errors}, reasons={payment_id: reason})
    return render(request, "admin/payments.html", context, status=status)


async def verify(request: web.Request) -> web.Response:
    payment_id = record_id(request.match_info["id"], "payment")
    try:
        payment = await payments.verify_payment(
            payment_id, actor=admin(request), now=now(request), today=today(request), notifier=request.app[NotifierKey]
        )
    except Conflict as exc:
        return await _row_answer(request, payment_id, None, {"__all__": exc.detail}, exc.status)
    done = f"Verified {payment.utr or payment.gateway_payment_id}: booking confirmed and the traveller emailed."
    return await _row_answer(request, payment_id, done, {})


async def reject(request: web.Request) -> web.Response:
    payment_id = record_id(request.match_info["id"], "payment")
    reason = str((await read_form(request)).get("reason", ""))
    try:
        payment = await payments.reject_payment(
            payment_id, reason, actor=admin(request), now=now(request),
            hold_minutes=request.app[SettingsKey].hold_minutes, notifier=request.app[NotifierKey],
        )  # fmt: skip
    except (ValidationError, Conflict) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"__all__": exc.detail}
        return await _row_answer(request, payment_id, None, errors, exc.status, reason)
    return await _row_answer(request, payment_id, f"Rejected {payment.utr}: the traveller was told why.", {})


async def reconcile(request: web.Request) -> web.Response:
    """Upload a statement: show matches, mismatches and unmatched payments (nothing changes yet)."""
    upload = (await read_form(request)).get("statement")
    problems, result = [], None
    try:
        if not isinstance(upload, web.FileField):
            raise statements.StatementError(["Choose the bank statement's CSV file to upload."])
        result = await statements.match_upload(upload.file.read(statements.MAX_BYTES + 1))
    except statements.StatementError as exc:
        problems = exc.problems
    context = {"result": result, "problems": problems, "shown": SHOWN_PER_LIST, "admin_section": "payments"}
    return render(request, "admin/reconcile.html", context, fragment="fragments/admin/reconcile_result.html",
                  status=422 if problems else 200)  # fmt: skip


async def verify_matches(request: web.Request) -> web.Response:
    """Verify the chosen statement matches; each is its own transaction, so one that changed
    meanwhile is reported and the others still go through."""
    try:
        chosen = [_match_value(value) for value in (await read_form(request)).getall("match", [])]
    except ValueError:
        raise ValidationError({"match": "This form was changed; upload the statement again."}) from None
    if not chosen:
        await flash(request, "Choose at least one match to verify.", "error")
        raise web.HTTPSeeOther("/admin/payments")
    verified, problems = await payments.verify_statement_matches(
        chosen, actor=admin(request), now=now(request), today=today(request), notifier=request.app[NotifierKey]
    )
    await flash(request, f"Verified {verified} payment{'s' if verified != 1 else ''} from the statement.")
    for problem in problems:
        await flash(request, problem, "error")
    raise web.HTTPSeeOther("/admin/payments")


def _match_value(value: str) -> payments.StatementMatch:
    """A match checkbox's value: 'payment id:UTR:amount in paise:statement line'."""
    payment_id, utr, amount, line = value.split(":")
    return payments.StatementMatch(whole_number(payment_id, 1), utr, whole_number(amount, 1), whole_number(line, 1))


async def refunds(request: web.Request) -> web.Response:
    context = {
        "refunds": await pending_refunds(),
        "paid": await recent_refunds(),
        "admin_section": "payments",
    }
    return render(request, "admin/refunds.html", context)


async def refund_paid(request: web.Request) -> web.Response:
    form = await read_form(request)
    reference = str(form.get("reference", ""))
    back = "/admin/payments" if form.get("back") == "payments" else "/admin/refunds"
    try:
        refund = await mark_refund_paid(record_id(request.match_info["id"], "refund"), reference, actor=admin(request), now=now(request))
    except (ValidationError, Conflict) as exc:
        await flash(request, exc.detail, "error")
    else:
        await flash(request, f"Refund of booking {refund.booking.reference} marked paid ({refund.reference}).")
    raise web.HTTPSeeOther(back)


def routes() -> list[tuple[str, str, Any, str]]:
    """(method, path, handler, name) of every payments admin route; the caller guards them."""
    return [
        ("GET", "/admin/payments", queue, "admin_payments"),
        ("POST", "/admin/payments/{id:[0-9]+}/verify", verify, "admin_payment_verify"),
        ("POST", "/admin/payments/{id:[0-9]+}/reject", reject, "admin_payment_reject"),
        ("POST", "/admin/payments/reconcile", reconcile, "admin_payments_reconcile"),
        ("POST", "/admin/payments/reconcile/verify", verify_matches, "admin_payments_reconcile_verify"),
        ("GET", "/admin/refunds", refunds, "admin_refunds"),
        ("POST", "/admin/refunds/{id:[0-9]+}/paid", refund_paid, "admin_refund_paid"),
    ]
