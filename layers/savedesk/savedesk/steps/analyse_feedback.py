"""12. Internal feedback analysis for the owner: the facts of the loss and what to improve.

Joey gets the full review by email (tenure, MRR lost, contract position, reasons in the
client's words, what was offered, the case's timeline) and a compact summary in the ops
channel. "What to improve" comes from fixed rules on the reasons, so the same reason always
leads to the same suggestion and the roll-up across cases can count them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from savedesk.contract_terms import format_money
from savedesk.emails import ContractPosition, OwnerReviewContext, SaveOffer, TimelineEntry, render_email
from savedesk.integrations import slack as blocks
from savedesk.models import Case
from savedesk.reasons import reason_codes, reason_comments, reason_labels
from savedesk.steps.common import as_amount, as_date, internal_email_basics, posted_ref, tenure_months, today
from savedesk.steps.runner import StepContext, StepOutcome

OWNER_FIRST_NAME = "Joey"
EARLY_TENURE_MONTHS = 3

# One suggestion per reason code: specific enough to act on at the debrief.
IMPROVEMENT_BY_REASON = {
    "results": "Review reporting cadence and KPI alignment in month 2, before results become a reason to leave",
    "price": "Introduce a lighter tier to offer before renewal",
    "budget_cut": "Offer a pause or a smaller package as soon as a client mentions budget pressure",
    "service": "Weekly check-ins with a named contact for accounts in their first 6 months",
    "in_house": "Offer a hand-over or advisory plan when a client starts hiring in-house marketers",
    "switched_agency": "Compare our pricing and deliverables with the agency they chose",
    "business_change": "Keep in touch: a friendly check-in in 6 months, in case the business needs us again",
    "other": "Read the client's own words and agree one concrete change at the debrief",
}
NO_MEETING = "Book save meetings within 48 h of a cancel request and record the outcome the same day"
NO_REASON = "Get the exit survey answered before the meeting: no reason was recorded for this cancellation"
FALLBACK = "Walk through the timeline at the debrief and agree one change to how we run accounts"

# Events besides finished steps that belong on the owner's timeline, and how to say them.
TIMELINE_EVENTS = {
    "case_opened": "Cancel requested in the CRM",
    "exit_survey_received": "Exit survey answered",
}


def contract_position(case: Case) -> ContractPosition:
    review: dict[str, Any] = case.contract_review or {}
    # No minimum term means no commitment end; the contractual end date is the honest stand-in.
    commitment_end = as_date(review.get("commitment_end")) or as_date(review.get("effective_end_date")) or today()
    return ContractPosition(
        inside_minimum_term=bool(review.get("inside_minimum_term")),
        minimum_term_months=case.account.term_months or 0,
        commitment_end=commitment_end,
        remaining_obligation=as_amount(review.get("remaining_obligation")) or Decimal("0.00"),
        currency=review.get("currency") or case.account.currency,
    )


def offers_made(case: Case) -> list[SaveOffer]:
    """What the client was offered and how they answered; empty when no meeting outcome was recorded."""
    meeting = case.meeting
    if meeting is None or meeting.outcome != "cancel":
        return []
    levers = (case.contract_review or {}).get("save_levers", [])
    # The meeting notes are already among the quotes; the answer only says how it ended.
    declined = "Declined at the save meeting"
    offers: list[SaveOffer] = []
    offered_title = meeting.offer_title or next(
        (lv["title"] for lv in levers if lv.get("code") == meeting.offer_code), None
    )
    if offered_title:
        offers.append(SaveOffer(title=offered_title, answer=declined))
    for lever in levers:
        if lever.get("code") != meeting.offer_code:
            offers.append(SaveOffer(title=lever["title"], answer="Suggested in the meeting brief; not taken up"))
    if not offers:
        offers.append(SaveOffer(title="Save meeting", answer=declined))
    return offers


def timeline(events: list[dict[str, Any]]) -> list[TimelineEntry]:
    entries = []
    for event in events:
        detail, kind = event.get("detail") or {}, event.get("kind")
        if kind == "step_completed":
            step, what = detail.get("step") or "step", detail.get("summary") or "done"
        elif kind == "meeting_outcome_recorded":
            step, what = "WaitForMeetingOutcome", f"Outcome recorded: {detail.get('outcome', 'unknown')}"
        elif kind in TIMELINE_EVENTS:
            step, what = "Case", TIMELINE_EVENTS[str(kind)]
        else:
            continue
        entries.append(TimelineEntry(at=datetime.fromisoformat(event["at"]), step=step, what=what))
    return entries


def improvements(case: Case, codes: list[str], comments: list[str], tenure: int) -> list[str]:
    points = [IMPROVEMENT_BY_REASON.get(code, IMPROVEMENT_BY_REASON["other"]) for code in codes]
    if not codes and not comments:
        points.append(NO_REASON)
    if case.meeting is None or case.offboarding_reason == "timeout":
        points.append(NO_MEETING)
    if tenure < EARLY_TENURE_MONTHS:
        points.append(f"Look at onboarding: the client asked to leave after {tenure} month(s)")
    return list(dict.fromkeys(points)) or [FALLBACK]


def slack_summary(
    case: Case, settings: Any, tenure: int, labels: list[str], points: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    account = case.account
    mrr = format_money(account.mrr, account.currency)
    review = case.contract_review or {}
    text = f"Cancellation review: {account.company} ({mrr} MRR lost)"
    message = [
        blocks.section(
            f"<@{settings.owner_slack_user_id}> *{blocks.escape_mrkdwn(account.company)}* cancelled after "
            f"{tenure} month(s): *{mrr}* MRR lost. The full review is in your inbox."
        ),
        blocks.fields(
            {
                "Reasons": ", ".join(labels) or "none given",
                "Inside minimum term": "yes" if review.get("inside_minimum_term") else "no",
                "Account manager": account.account_manager_name,
                "Meeting": "cancelled at the meeting" if case.meeting else "no outcome recorded",
            }
        ),
        blocks.section("*What to improve*\n" + "\n".join(f"• {blocks.escape_mrkdwn(p)}" for p in points)),
        blocks.context(f"SaveDesk case `{case.case_id}`"),
    ]
    return text, message


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    account = case.account
    tenure = tenure_months(case, today())
    codes = reason_codes(case)
    labels = reason_labels(codes)
    comments = reason_comments(case)
    points = improvements(case, codes, comments, tenure)

    email = render_email(
        "owner_review",
        OwnerReviewContext(
            **internal_email_basics(case, settings),
            recipient_first_name=OWNER_FIRST_NAME,
            tenure_months=tenure,
            mrr_lost=account.mrr,
            currency=account.currency,
            contract=contract_position(case),
            reason_categories=labels,
            reason_quotes=comments,
            offers=offers_made(case),
            timeline=timeline(ctx.store.events(case.case_id)),
            improvements=points,
        ),
    )
    message_id = ctx.once(
        "email:owner_review", lambda: deps.mailer.send([settings.owner_email], email, case_id=case.case_id)
    )
    text, message = slack_summary(case, settings, tenure, labels, points)
    posted = ctx.once(
        "slack:owner_summary",
        lambda: posted_ref(deps.slack.post_message(settings.ops_slack_channel, text, blocks=message)),
    )
    return StepOutcome(
        summary=(
            f"Review sent to the owner: {format_money(account.mrr, account.currency)} MRR lost after {tenure} "
            f"month(s); {len(points)} point(s) to improve"
        ),
        details={
            "mrr_lost": str(account.mrr),
            "currency": account.currency,
            "tenure_months": tenure,
            "reason_codes": codes,
            "improvements": points,
            "ses_message_id": message_id,
            "slack": posted,
        },
    )
