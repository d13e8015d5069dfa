"""6. Follow up on outstanding payments: one friendly reminder listing the client's open invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from savedesk.contract_terms import format_money
from savedesk.emails import OpenInvoice, PaymentReminderContext, render_email
from savedesk.errors import VendorError
from savedesk.integrations.billing import Invoice, to_decimal
from savedesk.steps.common import client_email_basics, today
from savedesk.steps.complete_billing_request import require_billing_customer
from savedesk.steps.runner import StepContext, StepOutcome


def reminder_invoice(invoice: Invoice) -> OpenInvoice:
    if not invoice.hosted_invoice_url:
        # Stripe gives every finalized invoice a payment page; without one the client has nothing to pay with.
        raise VendorError(f"stripe: open invoice {invoice.id} has no hosted_invoice_url")
    return OpenInvoice(
        number=invoice.number or invoice.id,
        amount_remaining=to_decimal(invoice.amount_remaining, invoice.currency),
        currency=invoice.currency.upper(),
        # Invoices charged automatically carry no due date: they are due now.
        due_date=invoice.due_date or today(),
        hosted_invoice_url=invoice.hosted_invoice_url,
    )


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    account = case.account
    customer = require_billing_customer(case)
    invoices = [inv for inv in deps.billing.open_invoices(customer) if inv.amount_remaining > 0]

    if not invoices:
        return StepOutcome(
            summary="No outstanding payments",
            details={"open_invoices": 0, "amount_due": "0.00", "currency": account.currency},
        )

    # One reminder has one total, so it covers the invoices in one currency (the account's, when it has any);
    # invoices in another currency are rare, and named in the summary for a person to chase.
    currencies = [inv.currency.upper() for inv in invoices]
    currency = account.currency if account.currency in currencies else currencies[0]
    others = [inv.id for inv in invoices if inv.currency.upper() != currency]
    invoices = [inv for inv in invoices if inv.currency.upper() == currency]
    lines = [reminder_invoice(inv) for inv in invoices]
    amount_due = sum((line.amount_remaining for line in lines), Decimal("0"))

    email = render_email(
        "payment_reminder",
        PaymentReminderContext(**client_email_basics(case, settings), invoices=lines, currency=currency),
    )
    message_id = ctx.once(
        "email:payment_reminder",
        lambda: deps.mailer.send(
            [account.contact_email], email, case_id=case.case_id, reply_to=account.account_manager_email
        ),
    )
    plural = "s" if len(invoices) != 1 else ""
    details: dict[str, Any] = {
        "open_invoices": len(invoices),
        "amount_due": str(amount_due),
        "currency": currency,
        "invoice_ids": [inv.id for inv in invoices],
        "ses_message_id": message_id,
    }
    due = format_money(amount_due, currency)
    summary = f"Payment reminder emailed: {len(invoices)} open invoice{plural}, {due} due"
    if others:
        details["needs_manual_reminder"] = others
        summary += f"; {len(others)} invoice(s) in another currency need a reminder by hand"
    return StepOutcome(summary=summary, details=details)
