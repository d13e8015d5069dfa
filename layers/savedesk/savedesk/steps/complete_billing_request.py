"""5. Send a billing request so the client is not billed again.

Every subscription of the client's Stripe customer that can still bill is set to end: at
the effective end date from the contract review, or at the current period's end when no
review is on file. The client keeps what they paid for until then.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from savedesk.contract_terms import format_date
from savedesk.errors import MissingClientData
from savedesk.models import Case
from savedesk.reasons import REASON_CODES
from savedesk.steps.common import today
from savedesk.steps.runner import StepContext, StepOutcome

STEP = "CompleteBillingRequest"

# Stripe's cancellation_details.feedback has a fixed vocabulary; our reason codes map onto it.
STRIPE_FEEDBACK = {
    "price": "too_expensive",
    "results": "low_quality",
    "service": "customer_service",
    "switched_agency": "switched_service",
    "in_house": "other",
    "budget_cut": "other",
    "business_change": "other",
    "other": "other",
}


def require_billing_customer(case: Case) -> str:
    if not case.account.billing_customer_id:
        raise MissingClientData(
            f"{case.account.company} has no billing customer on file (CRM property for billing_customer_id, "
            "the Stripe customer id cus_...); add it in the CRM, then re-run this step"
        )
    return case.account.billing_customer_id


def stripe_feedback(reason_codes: list[str]) -> str | None:
    """The most specific Stripe feedback code of the client's reasons ("other" only when nothing fits better)."""
    mapped = [STRIPE_FEEDBACK.get(code, "other") for code in reason_codes]
    specific = [m for m in mapped if m != "other"]
    if specific:
        return specific[0]
    return "other" if mapped else None


def reasons_comment(case: Case) -> str:
    labels = [REASON_CODES.get(code, code) for code in case.reasons.codes]
    reasons = "; ".join(labels) if labels else "no reason recorded yet"
    return f"Cancelled through SaveDesk (case {case.case_id}). Reasons: {reasons}"


def effective_end(case: Case) -> date | None:
    value = (case.contract_review or {}).get("effective_end_date")
    return date.fromisoformat(value) if value else None


def run(ctx: StepContext) -> StepOutcome:
    case, billing = ctx.case, ctx.deps.billing
    customer = require_billing_customer(case)
    end = effective_end(case)
    # Stripe refuses a cancel_at in the past; a late run stops billing today rather than failing.
    stop_at = max(end, today()) if end is not None else None
    comment = reasons_comment(case)
    feedback = stripe_feedback(case.reasons.codes)

    stopped: list[dict[str, Any]] = []
    for subscription in billing.active_subscriptions(customer):
        sub_id = subscription.id

        def stop(sub_id: str = sub_id) -> dict[str, Any]:
            updated = billing.stop_billing(
                sub_id,
                at=stop_at,
                idempotency_key=f"{case.case_id}:{STEP}:{sub_id}",
                comment=comment,
                feedback=feedback,
                metadata={"case_id": case.case_id},
            )
            cancel_at = updated.cancel_at or (updated.current_period_end if updated.cancel_at_period_end else None)
            return {"id": updated.id, "cancel_at": cancel_at.isoformat() if cancel_at else None}

        stopped.append(ctx.once(f"stripe:stop_billing:{sub_id}", stop))

    last_billed = [date.fromisoformat(s["cancel_at"]) for s in stopped if s["cancel_at"]]
    # With no subscription left to stop, billing already ended: today is the honest answer.
    stops_after = stop_at or (max(last_billed) if last_billed else today())

    if not stopped:
        summary = "No active subscription: billing had already stopped"
    else:
        count = f"{len(stopped)} subscription{'s' if len(stopped) != 1 else ''}"
        summary = f"Billing stops after {format_date(stops_after)} ({count} set to end)"
    return StepOutcome(
        summary=summary,
        details={"billing_stops_after": stops_after.isoformat(), "subscriptions": stopped},
    )
