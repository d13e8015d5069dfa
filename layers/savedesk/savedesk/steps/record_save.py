"""Saved: record the offer and the MRR kept, note it in the client's channel, thank the client for staying."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from savedesk.contract_terms import format_money
from savedesk.emails import GladYoureStayingContext, render_email
from savedesk.errors import PermanentError
from savedesk.integrations import slack as blocks
from savedesk.models import Case, CaseStatus
from savedesk.observability import metrics
from savedesk.steps.common import client_email_basics, posted_ref, require_slack_channel
from savedesk.steps.runner import StepContext, StepOutcome

OFFER_TITLES = {
    "discount": "A discount on the retainer",
    "pause": "A pause of the engagement",
    "scope_down": "A smaller package",
    "strategy_review": "A fresh strategy review",
    "term_credit": "Credit toward other work",
}


def offer_of(case: Case) -> tuple[str, str]:
    """The offer the client took, in words: the meeting's own title, else the contract review's lever."""
    meeting = case.meeting
    if meeting is None or meeting.outcome != "saved":
        raise PermanentError("RecordSave runs only after a 'saved' outcome")
    levers = {lv["code"]: lv for lv in (case.contract_review or {}).get("save_levers", [])}
    lever = levers.get(meeting.offer_code or "")
    title = meeting.offer_title or (
        lever["title"] if lever else OFFER_TITLES.get(meeting.offer_code or "", "Staying on")
    )
    detail = meeting.notes or (lever["detail"] if lever else "We'll follow up with the details in writing.")
    return title, detail


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    account, meeting = case.account, case.meeting
    title, detail = offer_of(case)
    mrr_saved = meeting.mrr_saved if meeting and meeting.mrr_saved is not None else account.mrr
    channel = require_slack_channel(case)

    text = f"{account.company} is staying: {title}"
    message = [
        blocks.header(f"Saved: {account.company}"),
        blocks.fields(
            {
                "Offer": title,
                "MRR kept": format_money(mrr_saved, account.currency),
                "Saved by": (meeting.recorded_by if meeting and meeting.recorded_by else account.account_manager_name),
            }
        ),
        blocks.section(blocks.escape_mrkdwn(detail)),
        blocks.context(f"Case `{case.case_id}`"),
    ]
    posted = ctx.once("slack:save_note", lambda: posted_ref(deps.slack.post_message(channel, text, blocks=message)))

    email = render_email(
        "glad_youre_staying",
        GladYoureStayingContext(
            **client_email_basics(case, settings),
            offer_title=title,
            offer_detail=detail,
            next_steps=[
                f"{account.account_manager_first_name} will send the updated terms in writing this week.",
                "Your campaigns and reporting carry on without a break.",
            ],
        ),
    )
    message_id = ctx.once(
        "email:glad_youre_staying",
        lambda: deps.mailer.send(
            [account.contact_email], email, case_id=case.case_id, reply_to=account.account_manager_email
        ),
    )
    ctx.update_case(lambda c: c.model_copy(update={"status": CaseStatus.SAVED}))
    if case.status != CaseStatus.SAVED:  # a forced re-run of a saved case is not a second save
        # Dimensions stay {service}: the case id is metadata, so each metric keeps one series.
        # MRR is summed as recorded (the agency bills in one currency); the currency is metadata.
        metrics.add_metric(name="CasesSaved", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="MrrSaved", unit=MetricUnit.NoUnit, value=float(mrr_saved))
        metrics.add_metadata(key="case_id", value=case.case_id)
        metrics.add_metadata(key="currency", value=account.currency)
    return StepOutcome(
        summary=f"Saved with '{title}', {format_money(mrr_saved, account.currency)} MRR kept",
        details={"offer": title, "mrr_saved": str(mrr_saved), "slack": posted, "ses_message_id": message_id},
    )
