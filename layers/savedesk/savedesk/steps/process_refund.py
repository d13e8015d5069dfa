"""7. Process any refund due under the agency's policy.

The amount comes from the contract review. A refund above the approval threshold waits for a
person: the step asks ops in Slack, returns `awaiting_approval`, and the workflow runs it
again once the refund approval form recorded a decision on the case.

A refund is money out, so it must never happen twice. Three layers make sure of that:
the recorded effect per payment, Stripe's Idempotency-Key (kept by Stripe for 24 hours), and,
past those 24 hours, Stripe itself: every refund carries the case id in its metadata and
each payment's refunds are read back before a new one is made.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from savedesk.contract_terms import format_money
from savedesk.errors import PermanentError
from savedesk.integrations import slack as blocks
from savedesk.integrations.billing import ZERO_DECIMAL_CURRENCIES, Payment, Refund, to_decimal
from savedesk.models import Case
from savedesk.steps.complete_billing_request import require_billing_customer
from savedesk.steps.runner import StepContext, StepOutcome

STEP = "ProcessRefund"
APPROVAL_TIMEOUT_SECONDS = 7 * 24 * 3600
REFUND_EFFECT = "stripe:refund:"
# Refunds that did not (or will not) move money back do not count toward what the case refunded.
_NOT_REFUNDED = {"failed", "canceled"}


def to_cents(amount: Decimal, currency: str) -> int:
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return int(amount)
    return int((amount * 100).quantize(Decimal("1")))


def _review(case: Case) -> dict[str, Any]:
    if case.contract_review is None:
        raise PermanentError("the case has no contract review; re-run ReviewContractTerms, then this step")
    return case.contract_review


def run(ctx: StepContext) -> StepOutcome:
    case, settings = ctx.case, ctx.deps.settings
    review = _review(case)
    amount = Decimal(str(review.get("refund_amount") or "0"))
    currency = str(review.get("currency") or case.account.currency).upper()
    reason = str(review.get("refund_reason", ""))

    if amount <= 0 or not review.get("refund_eligible"):
        return _finished("none", None, currency, reason, [], "No refund due under the policy")

    decision = case.refund_decision
    if decision is not None and not decision.get("approved"):
        return _finished(
            "rejected",
            None,
            currency,
            reason,
            [],
            f"Refund of {format_money(amount, currency)} rejected at approval; nothing refunded",
            proposed=amount,
        )
    # Checked before asking for approval, so the CRM can be fixed while the approval is pending.
    customer = require_billing_customer(case)
    if decision is None and amount > settings.refund_approval_threshold:
        return _ask_for_approval(ctx, amount, currency)

    refunds = _refund(ctx, customer, to_cents(amount, currency), currency)
    return _finished(
        "refunded", amount, currency, reason, refunds, f"Refunded {format_money(amount, currency)} to the client"
    )


def _finished(
    status: str,
    amount: Decimal | None,
    currency: str,
    reason: str,
    refunds: list[dict[str, Any]],
    summary: str,
    proposed: Decimal | None = None,
) -> StepOutcome:
    details: dict[str, Any] = {
        "refund_amount": str(amount) if amount is not None else None,
        "currency": currency,
        "status": status,
        "reason": reason,
        "refunds": refunds,
    }
    if proposed is not None:
        details["proposed_amount"] = str(proposed)
    return StepOutcome(summary=summary, details=details, output={"status": status})


def _ask_for_approval(ctx: StepContext, amount: Decimal, currency: str) -> StepOutcome:
    case, settings = ctx.case, ctx.deps.settings
    money = format_money(amount, currency)
    threshold = format_money(settings.refund_approval_threshold, currency)
    text = f"Refund approval needed: {case.account.company}, {money}"
    message = [
        blocks.header("Refund approval needed"),
        blocks.section(
            f"*{blocks.escape_mrkdwn(case.account.company)}* is due a refund of *{money}*, "
            f"above the {threshold} that needs no approval."
        ),
        blocks.section(
            f"Approve or reject it with the refund approval form (case id `{case.case_id}`). "
            "The offboarding waits for the answer."
        ),
    ]
    ctx.once(
        "slack:refund_approval_request",
        lambda: _posted(ctx.deps.slack.post_message(settings.ops_slack_channel, text, blocks=message)),
    )
    return StepOutcome(
        summary=f"Refund of {money} waits for approval",
        details={"refund_amount": str(amount), "currency": currency, "status": "awaiting_approval"},
        output={"status": "awaiting_approval", "approval_timeout_seconds": APPROVAL_TIMEOUT_SECONDS},
        complete=False,
    )


def _posted(posted: Any) -> dict[str, str]:
    return {"channel": posted.channel, "ts": posted.ts}


def _refund(ctx: StepContext, customer: str, target: int, currency: str) -> list[dict[str, Any]]:
    """Refund `target` cents across the newest payments; returns every refund this case made, old and new."""
    case_id, billing = ctx.case.case_id, ctx.deps.billing
    payments = [
        p
        for p in sorted(billing.refundable_payments(customer), key=lambda p: p.created, reverse=True)
        if p.currency.lower() == currency.lower()
    ]
    # Payments an earlier run refunded in full are no longer refundable, so they are not in the list above:
    # the effects remember them.
    touched = [key.removeprefix(REFUND_EFFECT) for key in ctx.effects if key.startswith(REFUND_EFFECT)]
    candidates = list(dict.fromkeys([*touched, *(p.payment_intent for p in payments)]))
    by_intent = {p.payment_intent: p for p in payments}

    done: list[dict[str, Any]] = []
    plan: list[tuple[Payment, int]] = []
    covered = 0
    for intent in candidates:
        if covered >= target and intent not in touched:
            break
        ours = [r for r in billing.refunds_for(intent) if _made_by(r, case_id)]
        if ours:
            # Refunded for this case before (the effect may be lost, or Stripe's key expired): never again.
            done += [_refund_ref(r) for r in ours]
            covered += sum(r.amount for r in ours)
            continue
        payment = by_intent.get(intent)
        if payment is None or covered >= target:
            continue
        share = min(payment.refundable, target - covered)
        plan.append((payment, share))
        covered += share

    if covered < target:
        refundable = to_decimal(sum(p.refundable for p in payments), currency)
        raise PermanentError(
            f"refund of {format_money(to_decimal(target, currency), currency)} is more than the client's "
            f"refundable payments in {currency} ({format_money(refundable, currency)}); nothing more was refunded. "
            "Check the customer's payments in Stripe and refund by hand"
        )

    for payment, share in plan:
        intent = payment.payment_intent

        def issue(intent: str = intent, share: int = share) -> dict[str, Any]:
            refund = billing.refund(
                intent,
                share,
                idempotency_key=f"{case_id}:{STEP}:{intent}",
                metadata={"case_id": case_id},
            )
            return _refund_ref(refund)

        done.append(ctx.once(f"{REFUND_EFFECT}{intent}", issue))
    return done


def _made_by(refund: Refund, case_id: str) -> bool:
    return refund.metadata.get("case_id") == case_id and refund.status not in _NOT_REFUNDED


def _refund_ref(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "amount": str(to_decimal(refund.amount, refund.currency)),
        "payment_intent": refund.payment_intent,
    }
