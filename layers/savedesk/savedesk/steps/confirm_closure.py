"""11. Confirm closure to the client: what ended, when billing stops, the refund, access, ads.

The facts come from the offboarding steps that ran before (billing, refund, Topline access).
Each of them may be missing (a step skipped by ops, a client without that service), so every
fact has a fallback that is true for the client: never a crash, never an empty line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from savedesk.contract_terms import format_date, format_money
from savedesk.emails import ClosureConfirmationContext, render_email
from savedesk.steps.common import as_amount, as_date, client_email_basics, recorded_details, today
from savedesk.steps.runner import StepContext, StepOutcome

# What a Topline client has with the agency; the email names them so "services terminated" is concrete.
SERVICES = ["SEO retainer", "Paid social management", "Topline dashboard access"]
# Card refunds reach the client in 5-10 business days (Stripe's guidance); promise the later end.
REFUND_DAYS = 10


def closure_facts(ctx: StepContext) -> dict[str, Any]:
    case, on = ctx.case, today()
    review = case.contract_review or {}
    billing = recorded_details(ctx.store, case.case_id, "CompleteBillingRequest")
    refund = recorded_details(ctx.store, case.case_id, "ProcessRefund")
    access = recorded_details(ctx.store, case.case_id, "DeactivateToplineAccess")

    effective_end = as_date(review.get("effective_end_date")) or as_date(billing.get("billing_stops_after")) or on
    refund_amount = as_amount(refund.get("refund_amount"))
    refunded = refund.get("status") == "refunded" and refund_amount is not None and refund_amount > 0
    return {
        "effective_end_date": effective_end,
        "billing_stops_after": as_date(billing.get("billing_stops_after")) or effective_end,
        "refund_amount": refund_amount if refunded else None,
        "refund_expected_by": on + timedelta(days=REFUND_DAYS) if refunded else None,
        "currency": (refund.get("currency") if refunded else None) or review.get("currency") or case.account.currency,
        # Without a record of the deactivation, the honest date is today: this email says it has ended.
        "topline_access_ends_on": as_date(access.get("deactivated_at")) or on,
        "ads_paused_on": on,
    }


def run(ctx: StepContext) -> StepOutcome:
    case, settings = ctx.case, ctx.deps.settings
    account = case.account
    facts = closure_facts(ctx)
    email = render_email(
        "closure_confirmation",
        ClosureConfirmationContext(**client_email_basics(case, settings), services=SERVICES, **facts),
    )
    message_id = ctx.once(
        "email:closure_confirmation",
        lambda: ctx.deps.mailer.send(
            [account.contact_email], email, case_id=case.case_id, reply_to=account.account_manager_email
        ),
    )
    refund = facts["refund_amount"]
    refund_text = f"refund {format_money(refund, facts['currency'])}" if refund is not None else "no refund"
    return StepOutcome(
        summary=(
            f"Closure confirmed to the client: billing stops after {format_date(facts['billing_stops_after'])}, "
            f"{refund_text}"
        ),
        details={
            "ses_message_id": message_id,
            "effective_end_date": facts["effective_end_date"].isoformat(),
            "billing_stops_after": facts["billing_stops_after"].isoformat(),
            "refund_amount": str(refund) if refund is not None else None,
            "topline_access_ends_on": facts["topline_access_ends_on"].isoformat(),
        },
    )
