"""No outcome in time: tell ops and the owner. The client asked to leave, so the case offboards."""

from __future__ import annotations

from datetime import UTC, datetime

from savedesk.emails import EscalationContext, render_email
from savedesk.integrations import slack as blocks
from savedesk.models import CaseStatus
from savedesk.steps.common import console_link, internal_email_basics, posted_ref
from savedesk.steps.runner import StepContext, StepOutcome


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    account = case.account
    text = f"No save meeting outcome for {account.company}: offboarding as requested"
    message = [
        blocks.header(f"Escalation: {account.company}"),
        blocks.section(
            f"<@{settings.owner_slack_user_id}> the save meeting outcome for *{blocks.escape_mrkdwn(account.company)}* "
            f"was never recorded (account manager: {blocks.escape_mrkdwn(account.account_manager_name)}). "
            "The client asked to leave, so SaveDesk is offboarding them now."
        ),
        blocks.context(f"Case `{case.case_id}`"),
    ]
    posted = ctx.once(
        "slack:escalation",
        lambda: posted_ref(deps.slack.post_message(settings.ops_slack_channel, text, blocks=message)),
    )
    email = render_email(
        "escalation",
        EscalationContext(
            **internal_email_basics(case, settings),
            recipient_first_name="Joey",
            outcome_due_at=datetime.now(UTC),
            case_url=console_link(settings.console_region, ctx.event.get("execution_id")),
        ),
    )
    message_id = ctx.once(
        "email:escalation", lambda: deps.mailer.send([settings.owner_email], email, case_id=case.case_id)
    )
    ctx.update_case(lambda c: c.model_copy(update={"status": CaseStatus.OFFBOARDING, "offboarding_reason": "timeout"}))
    return StepOutcome(
        summary="Outcome never recorded: ops and the owner told; offboarding",
        details={"slack": posted, "ses_message_id": message_id},
    )
