"""1. Acknowledge the cancellation request: an email to the client, with the exit survey."""

from __future__ import annotations

from savedesk.emails import AcknowledgementContext, render_email
from savedesk.steps.common import client_email_basics, form_link
from savedesk.steps.runner import StepContext, StepOutcome


def run(ctx: StepContext) -> StepOutcome:
    case, settings = ctx.case, ctx.deps.settings
    account = case.account
    email = render_email(
        "acknowledgement",
        AcknowledgementContext(
            **client_email_basics(case, settings),
            requested_on=case.opened_at.date(),
            personal_note=(
                f"I'm sorry to see this request, {account.contact_first_name}. Before anything changes, I'd like "
                "to make sure nothing is left half-done, and to hear honestly what we could have done better."
            ),
            survey_url=form_link(settings.exit_survey_url, case.case_id),
        ),
    )
    message_id = ctx.once(
        "email:acknowledgement",
        lambda: ctx.deps.mailer.send(
            [account.contact_email], email, case_id=case.case_id, reply_to=account.account_manager_email
        ),
    )
    return StepOutcome(
        summary="Acknowledgement emailed to the client, with the exit survey link",
        details={"ses_message_id": message_id, "template": email.template},
    )
