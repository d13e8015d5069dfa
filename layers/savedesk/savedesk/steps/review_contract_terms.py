"""3. Review the contract terms, so the account manager can de-escalate with facts."""

from __future__ import annotations

from savedesk.contract_terms import Contract, RefundPolicy, review_contract
from savedesk.models import Case
from savedesk.settings import Settings
from savedesk.steps.runner import StepContext, StepOutcome


def contract_of(case: Case) -> Contract:
    account = case.account
    return Contract(
        start_date=account.contract_start,
        minimum_term_months=account.term_months,
        notice_days=account.notice_days if account.notice_days is not None else 30,
        monthly_fee=account.mrr,
        currency=account.currency,
        prepaid_through=account.prepaid_through,
        client_name=account.company,
    )


def refund_policy(settings: Settings) -> RefundPolicy:
    return RefundPolicy(approval_threshold=settings.refund_approval_threshold)


def run(ctx: StepContext) -> StepOutcome:
    review = review_contract(contract_of(ctx.case), ctx.case.opened_at.date(), refund_policy(ctx.deps.settings))
    stored = review.model_dump(mode="json")
    ctx.update_case(lambda case: case.model_copy(update={"contract_review": stored}))
    return StepOutcome(
        summary=review.summary,
        details={
            "inside_minimum_term": review.inside_minimum_term,
            "commitment_end": stored["commitment_end"],
            "effective_end_date": stored["effective_end_date"],
            "remaining_obligation": stored["remaining_obligation"],
            "save_levers": [lever.code for lever in review.save_levers],
        },
    )
