"""A step failed after its retries: tell ops where and why, and mark the case FAILED.

The workflow then ends in a Fail state, so the execution can be redriven once the cause is fixed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from savedesk.integrations import slack as blocks
from savedesk.models import CaseStatus
from savedesk.steps.common import console_link, posted_ref
from savedesk.steps.runner import StepContext, StepOutcome

_STEP_IN_MESSAGE = re.compile(r"^\[(?P<step>[A-Za-z]+)\] ")


def describe_failure(failure: dict[str, Any] | None) -> tuple[str, str, str]:
    """(step, error type, message) from the Catch's error output; messages carry their step as "[Step] ..."."""
    failure = failure or {}
    error = str(failure.get("Error", "Unknown"))
    message = str(failure.get("Cause", ""))
    try:
        cause = json.loads(message)
        if isinstance(cause, dict):
            error = str(cause.get("errorType", error))
            message = str(cause.get("errorMessage", message))
    except ValueError:
        pass
    # A failed Parallel branch wraps the branch's error once more.
    nested = _STEP_IN_MESSAGE.search(message)
    step = nested.group("step") if nested else "unknown step"
    return step, error, message[:1500]


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    step, error, message = describe_failure(ctx.event.get("failure"))
    text = f"SaveDesk: {step} failed for {case.account.company}"
    execution = console_link(settings.console_region, ctx.event.get("execution_id"))
    slack_message = [
        blocks.header(f"Step failed: {step}"),
        blocks.fields({"Client": case.account.company, "Case": case.case_id, "Error": error}),
        blocks.section(f"```{blocks.escape_mrkdwn(message)}```"),
        blocks.actions(
            blocks.button(
                "Open the execution",
                action_id="open_execution",
                url=execution,
            )
        ),
        blocks.context("Fix the cause, then *Redrive* the execution or re-run the step (README: runbook)."),
    ]
    # Keyed by step and error: a later, different failure of the same case is news too.
    posted = ctx.once(
        f"slack:failure:{step}:{error}",
        lambda: posted_ref(deps.slack.post_message(settings.ops_slack_channel, text, blocks=slack_message)),
    )
    ctx.update_case(lambda c: c.model_copy(update={"status": CaseStatus.FAILED}))
    ctx.log("case_failed", {"failed_step": step, "error": error, "message": message})
    return StepOutcome(
        summary=f"Ops told that {step} failed ({error})",
        details={"slack": posted, "failed_step": step, "error": error},
        complete=False,
    )
