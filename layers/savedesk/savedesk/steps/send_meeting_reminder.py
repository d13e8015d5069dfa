"""Nudge the account manager: the meeting outcome is not recorded yet."""

from __future__ import annotations

import hashlib

from savedesk.integrations import slack as blocks
from savedesk.steps.common import account_manager_destination, form_link, posted_ref
from savedesk.steps.runner import StepContext, StepOutcome


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    # One reminder per wait: after a reschedule the next wait has a new token and earns a new reminder.
    token = ctx.store.peek_task_token(case.case_id, "meeting") or ""
    round_key = hashlib.sha256(token.encode()).hexdigest()[:12]
    account = case.account
    mention = (
        f"<@{account.account_manager_slack_id}>"
        if account.account_manager_slack_id
        else blocks.escape_mrkdwn(account.account_manager_name)
    )
    text = f"Reminder: record the save meeting outcome for {account.company}"
    message = [
        blocks.section(
            f"{mention}, the save meeting outcome for *{blocks.escape_mrkdwn(account.company)}* "
            "isn't recorded yet. Saved, cancelled or rescheduled: one click keeps the case moving."
        ),
        blocks.actions(
            blocks.button(
                "Record the outcome",
                action_id="record_outcome",
                url=form_link(settings.outcome_form_url, case.case_id),
                style="primary",
            )
        ),
        blocks.context(f"Case `{case.case_id}`"),
    ]
    destination = account_manager_destination(case, settings)
    posted = ctx.once(
        f"slack:reminder:{round_key}", lambda: posted_ref(deps.slack.post_message(destination, text, blocks=message))
    )
    # Never "completed": a later wait (after a reschedule) needs its own reminder.
    return StepOutcome(summary="Reminder sent to the account manager", details={"slack": posted}, complete=False)
