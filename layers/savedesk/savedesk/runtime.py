"""The Lambda side of a checklist step: logging keys, metrics, and the step runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from savedesk import wiring
from savedesk.errors import SaveDeskError
from savedesk.observability import log_metrics, logger, metrics
from savedesk.steps.runner import StepContext, StepOutcome, run_step

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def step_handler(step: str, action: Callable[[StepContext], StepOutcome]) -> LambdaHandler:
    """A Lambda handler for one checklist step: `handler = step_handler("ConfirmClosure", confirm_closure.run)`."""

    @logger.inject_lambda_context(clear_state=True)
    @log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(case_id=event.get("case_id"), step=step)
        try:
            result = run_step(step, event, wiring.store(), wiring.Deps(context), action)
        except SaveDeskError as exc:
            # Dimensions stay {service} (StepFailuresAlarm watches exactly that); the rest is metadata.
            metrics.add_metric(name="StepFailures", unit=MetricUnit.Count, value=1)
            metrics.add_metadata(key="case_id", value=event.get("case_id"))
            metrics.add_metadata(key="step", value=step)
            metrics.add_metadata(key="error_type", value=type(exc).__name__)
            logger.warning("step failed", extra={"error_type": type(exc).__name__, "error": str(exc)})
            raise
        logger.info("step finished", extra={"summary": result.get("summary"), "replayed": result.get("replayed")})
        return result

    return handler


def wait_handler() -> LambdaHandler:
    """The Lambda behind a callback state: keeps the task token (see savedesk.steps.waiting)."""
    from savedesk.steps import waiting

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(case_id=event.get("case_id"), waiting_for=event.get("kind"))
        return waiting.wait(event, wiring.store(), wiring.workflow())

    return handler
