"""The last state of an offboarding: the case is CLOSED and the account free to come back some day."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from savedesk.models import CaseStatus, utcnow
from savedesk.observability import metrics
from savedesk.steps.runner import StepContext, StepOutcome


def run(ctx: StepContext) -> StepOutcome:
    already_closed = ctx.case.status == CaseStatus.CLOSED  # a forced re-run is not a second loss
    case = ctx.update_case(lambda c: c.model_copy(update={"status": CaseStatus.CLOSED, "closed_at": utcnow()}))
    if not already_closed:
        # Dimensions stay {service}; the case id and currency are metadata (see record_save).
        metrics.add_metric(name="CasesClosed", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="MrrLost", unit=MetricUnit.NoUnit, value=float(case.account.mrr))
        metrics.add_metadata(key="case_id", value=case.case_id)
        metrics.add_metadata(key="currency", value=case.account.currency)
    return StepOutcome(summary="Case closed: every offboarding step is done")
