"""The last state of an offboarding: the case is CLOSED and the account free to come back some day."""

from __future__ import annotations

from savedesk.models import CaseStatus, utcnow
from savedesk.steps.runner import StepContext, StepOutcome


def run(ctx: StepContext) -> StepOutcome:
    ctx.update_case(lambda c: c.model_copy(update={"status": CaseStatus.CLOSED, "closed_at": utcnow()}))
    return StepOutcome(summary="Case closed: every offboarding step is done")
