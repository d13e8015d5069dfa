"""2. Schedule a final meeting to hear the reasons and try to save the account.

The client gets an invitation (booking link + an .ics for a proposed slot); the account
manager gets a brief in Slack (contract review, reasons so far, suggested offers, the
outcome form) and a ClickUp task for the meeting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from savedesk.calendar_invite import build_ics
from savedesk.contract_terms import format_date, format_money
from savedesk.emails import MeetingInvitationContext, render_email
from savedesk.integrations import slack as blocks
from savedesk.integrations.ses import Attachment
from savedesk.models import Case
from savedesk.steps.common import (
    account_manager_destination,
    client_email_basics,
    ensure_clickup_task,
    form_link,
    next_business_day_at,
    posted_ref,
)
from savedesk.steps.runner import StepContext, StepOutcome

MEETING_MINUTES = 30


def proposed_slot(case: Case) -> datetime:
    # Two business days out, mid-afternoon UTC (morning in the Americas): soon, but not rushed.
    return next_business_day_at(case.opened_at, 2, 15)


def meeting_brief(case: Case, outcome_form: str, start: datetime) -> tuple[str, list[dict]]:
    account, review = case.account, case.contract_review or {}
    company = blocks.escape_mrkdwn(account.company)
    levers = review.get("save_levers", [])
    reasons = case.reasons.comments or ["none given yet (the exit survey is out)"]
    text = f"Save meeting brief: {account.company}"
    facts = {
        "MRR": format_money(account.mrr, account.currency),
        "Proposed meeting": start.strftime("%a %d %b %Y, %H:%M UTC"),
        "Inside minimum term": "yes" if review.get("inside_minimum_term") else "no",
        "Commitment ends": review.get("commitment_end") or "no contract on file",
        "Effective end date": review.get("effective_end_date") or "-",
        "Still owed if they leave": format_money(_decimal(review.get("remaining_obligation")), account.currency),
    }
    message = [
        blocks.header(f"Save meeting: {account.company}"),
        blocks.section(f"*{company}* asked to cancel. {blocks.escape_mrkdwn(review.get('summary', ''))}"),
        blocks.fields(facts),
        blocks.section("*Reasons so far*\n" + "\n".join(f"• {blocks.escape_mrkdwn(r)}" for r in reasons)),
        blocks.section(
            "*Offers that fit*\n"
            + (
                "\n".join(
                    f"• *{blocks.escape_mrkdwn(lv['title'])}*: {blocks.escape_mrkdwn(lv['detail'])}" for lv in levers
                )
                or "• a strategy review"
            )
        ),
        blocks.actions(
            blocks.button("Record the outcome", action_id="record_outcome", url=outcome_form, style="primary")
        ),
        blocks.context(f"Case `{case.case_id}`"),
    ]
    return text, message


def _decimal(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal("0")


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    account = case.account
    start = proposed_slot(case)
    outcome_form = form_link(settings.outcome_form_url, case.case_id)

    email = render_email(
        "meeting_invitation",
        MeetingInvitationContext(
            **client_email_basics(case, settings),
            booking_url=settings.booking_url,
            proposed_start=start,
            duration_minutes=MEETING_MINUTES,
        ),
    )
    invite = build_ics(
        uid=f"{case.case_id}-save-meeting@savedesk",
        start=start,
        end=start + timedelta(minutes=MEETING_MINUTES),
        summary=f"{account.company} x {settings.agency_name}: account review",
        description=f"A short call with {account.account_manager_name}. Another time? {settings.booking_url}",
        organizer_email=account.account_manager_email,
        organizer_name=account.account_manager_name,
        attendees=[(account.contact_name, account.contact_email)],
        url=settings.booking_url,
    )
    message_id = ctx.once(
        "email:meeting_invitation",
        lambda: deps.mailer.send(
            [account.contact_email],
            email,
            case_id=case.case_id,
            reply_to=account.account_manager_email,
            attachments=[Attachment("invite.ics", invite, "text/calendar; method=REQUEST")],
        ),
    )

    text, message = meeting_brief(case, outcome_form, start)
    destination = account_manager_destination(case, settings)
    brief = ctx.once(
        "slack:meeting_brief", lambda: posted_ref(deps.slack.post_message(destination, text, blocks=message))
    )

    task_id = ctx.once("clickup:meeting_task", lambda: _meeting_task(deps.clickup, settings, case, start, outcome_form))
    ctx.log("meeting_proposed", {"proposed_start": start.isoformat()})
    return StepOutcome(
        summary=f"Meeting invitation emailed for {format_date(start.date())}; brief sent to the account manager",
        details={
            "ses_message_id": message_id,
            "slack": brief,
            "clickup_task_id": task_id,
            "proposed_start": start.isoformat(),
        },
        output={
            "proposed_start": start.isoformat(),
            "reminder_after_seconds": settings.meeting_reminder_after_seconds,
            "escalate_after_seconds": settings.meeting_escalate_after_seconds,
        },
    )


def _meeting_task(clickup: Any, settings: Any, case: Case, start: datetime, outcome_form: str) -> str:
    account = case.account
    return ensure_clickup_task(
        clickup,
        settings.clickup_account_management_list_id,
        f"savedesk-{case.case_id}-meeting",
        name=f"Save meeting: {account.company}",
        markdown=(
            f"**Client:** {account.company}\n**Account manager:** {account.account_manager_name}\n"
            f"**Proposed:** {start.strftime('%d %b %Y %H:%M UTC')}\n\n"
            f"{(case.contract_review or {}).get('summary', '')}\n\n"
            f"Record the outcome: {outcome_form}\n\nSaveDesk case `{case.case_id}`"
        ),
        due_date=start.date(),
        tags=["savedesk"],
        priority=2,
    )
