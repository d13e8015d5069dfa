"""4. Document the reasons: the case turns to offboarding, and the notes go to the customer's Slack channel.

The reasons themselves are already on the case (CRM free text at intake, the exit survey and
the meeting outcome add theirs as they come in); this step fixes them as the case's record and
tells the team that works on the account, in the channel they already watch.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from savedesk.contract_terms import format_date, format_money
from savedesk.integrations import slack as blocks
from savedesk.models import Case, CaseStatus
from savedesk.reasons import reason_codes, reason_comments, reason_labels
from savedesk.steps.common import as_amount, as_date, posted_ref, require_slack_channel
from savedesk.steps.runner import StepContext, StepOutcome

# One quote's share of a section: Slack refuses a whole message over 3,000 characters per section.
QUOTE_MAX_CHARS = 600


def offboarding_reason(case: Case) -> Literal["cancel", "timeout"]:
    if case.offboarding_reason is not None:
        return case.offboarding_reason  # EscalateMissingOutcome already said "timeout"
    if case.meeting is not None and case.meeting.outcome == "cancel":
        return "cancel"
    # No outcome was ever recorded: the request itself stands, as when the wait times out.
    return "timeout"


def meeting_summary(case: Case) -> str:
    meeting = case.meeting
    if meeting is not None and meeting.outcome == "cancel":
        by = f" (recorded by {meeting.recorded_by})" if meeting.recorded_by else ""
        return f"Cancellation confirmed at the save meeting{by}"
    return "No meeting outcome recorded; offboarding as the client asked"


def contract_facts(case: Case) -> dict[str, str]:
    review: dict[str, Any] = case.contract_review or {}
    currency = review.get("currency") or case.account.currency
    if not review:
        return {"Contract": "not reviewed"}
    return {
        "Inside minimum term": "yes" if review.get("inside_minimum_term") else "no",
        "Commitment ends": _day(review.get("commitment_end"), "no minimum term"),
        "Effective end date": _day(review.get("effective_end_date"), "-"),
        "Still owed": format_money(as_amount(review.get("remaining_obligation")) or Decimal("0"), currency),
    }


def _day(value: object, missing: str) -> str:
    day = as_date(value)
    return format_date(day) if day else missing


def _quote(comment: str) -> str:
    clipped = comment if len(comment) <= QUOTE_MAX_CHARS else comment[: QUOTE_MAX_CHARS - 1] + "…"
    # Escaped before the `>` quote marks are added, so only our own `>` starts a quote.
    return "\n".join(f">{blocks.escape_mrkdwn(line)}" for line in clipped.splitlines() or [""])


def notes_message(case: Case, codes: list[str], comments: list[str]) -> tuple[str, list[dict[str, Any]]]:
    account = case.account
    labels = reason_labels(codes)
    text = f"Cancellation notes: {account.company}"
    message = [
        blocks.header(f"Cancellation notes: {account.company}"),
        blocks.section(
            f"*{blocks.escape_mrkdwn(account.company)}* is leaving; offboarding has started. "
            f"Account manager: {blocks.escape_mrkdwn(account.account_manager_name)}."
        ),
        blocks.section(
            "*Reasons*\n" + ("\n".join(f"• {blocks.escape_mrkdwn(label)}" for label in labels) or "• none given")
        ),
    ]
    if comments:
        message.append(blocks.section("*In their words*\n" + "\n\n".join(_quote(c) for c in comments)))
    message += [
        blocks.fields({"Meeting": meeting_summary(case), **contract_facts(case)}),
        blocks.context(f"SaveDesk case `{case.case_id}`"),
    ]
    return text, message


def run(ctx: StepContext) -> StepOutcome:
    # The status changes first: the client is leaving whatever happens to the Slack post below.
    reason = offboarding_reason(ctx.case)
    case = ctx.update_case(
        lambda c: c.model_copy(update={"status": CaseStatus.OFFBOARDING, "offboarding_reason": reason})
    )
    channel = require_slack_channel(case)
    codes = reason_codes(case)
    comments = reason_comments(case)
    text, message = notes_message(case, codes, comments)
    posted = ctx.once(
        "slack:cancellation_notes", lambda: posted_ref(ctx.deps.slack.post_message(channel, text, blocks=message))
    )
    ctx.log("reasons_documented", {"reason_codes": codes, "comments": len(comments), "offboarding_reason": reason})
    listed = ", ".join(codes) or "none given"
    return StepOutcome(
        summary=f"Reasons documented ({listed}; {len(comments)} comment(s)); notes posted to the client channel",
        details={"reason_codes": codes, "comments": len(comments), "slack": posted, "offboarding_reason": reason},
    )
