"""14. A team debrief with the Digital Marketing Coordinator: an invitation (.ics) and a ClickUp task.

The learning points are AnalyseFeedback's "what to improve", so the debrief discusses what
the owner was sent; without that review, the reasons themselves are the agenda.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from savedesk.calendar_invite import build_ics
from savedesk.contract_terms import format_date
from savedesk.emails import TeamDebriefContext, render_email
from savedesk.integrations.ses import Attachment
from savedesk.models import Case
from savedesk.reasons import reason_codes, reason_labels
from savedesk.steps.common import ensure_clickup_task, internal_email_basics, next_business_day_at, recorded_details
from savedesk.steps.runner import StepContext, StepOutcome

DEBRIEF_MINUTES = 30
BUSINESS_DAYS_OUT = 3
# 15:00 UTC is mid-morning in the Americas and afternoon in Europe.
DEBRIEF_HOUR_UTC = 15
DEFAULT_POINT = "Walk through the case timeline and agree one change to how we run accounts"


def coordinator_name(email: str) -> str:
    """A display name from the coordinator's address ("sam.rivera@" -> "Sam Rivera"); settings hold no name."""
    local = email.split("@", 1)[0]
    words = [w for w in local.replace("_", ".").replace("-", ".").split(".") if w]
    return " ".join(w.capitalize() for w in words) or "Coordinator"


def learning_points(ctx: StepContext) -> tuple[list[str], str]:
    """(points, where they came from): the owner review's improvements, else the reasons."""
    review = recorded_details(ctx.store, ctx.case.case_id, "AnalyseFeedback")
    improvements = [str(p) for p in review.get("improvements") or [] if str(p).strip()]
    if improvements:
        return improvements, "AnalyseFeedback"
    labels = reason_labels(reason_codes(ctx.case))
    if labels:
        return [f"Why they left: {label}" for label in labels], "reasons"
    return [DEFAULT_POINT], "default"


def run(ctx: StepContext) -> StepOutcome:
    case, settings, deps = ctx.case, ctx.deps.settings, ctx.deps
    account = case.account
    # The slot is pinned on the first run, so a retry days later sends and files the same time.
    start = datetime.fromisoformat(
        ctx.once(
            "calendar:debrief_slot",
            lambda: next_business_day_at(datetime.now(UTC), BUSINESS_DAYS_OUT, DEBRIEF_HOUR_UTC).isoformat(),
        )
    )
    points, source = learning_points(ctx)
    coordinator = coordinator_name(settings.coordinator_email)

    email = render_email(
        "team_debrief",
        TeamDebriefContext(
            **internal_email_basics(case, settings),
            coordinator_name=coordinator,
            learning_points=points,
            proposed_start=start,
            duration_minutes=DEBRIEF_MINUTES,
        ),
    )
    invite = build_ics(
        uid=f"{case.case_id}-debrief@savedesk",
        start=start,
        end=start + timedelta(minutes=DEBRIEF_MINUTES),
        summary=f"Debrief: {account.company} cancellation",
        description="Learning points:\n" + "\n".join(f"- {p}" for p in points),
        organizer_email=settings.coordinator_email,
        organizer_name=coordinator,
        attendees=[
            (coordinator, settings.coordinator_email),
            (account.account_manager_name, account.account_manager_email),
        ],
    )
    message_id = ctx.once(
        "email:team_debrief",
        lambda: deps.mailer.send(
            [settings.coordinator_email],
            email,
            case_id=case.case_id,
            cc=[account.account_manager_email],
            attachments=[Attachment("debrief.ics", invite, "text/calendar; method=REQUEST")],
        ),
    )
    task_id = ctx.once("clickup:debrief_task", lambda: _debrief_task(deps.clickup, settings, case, start, points))
    return StepOutcome(
        summary=f"Team debrief proposed for {format_date(start.date())}: invitation sent, ClickUp task filed",
        details={
            "proposed_start": start.isoformat(),
            "ses_message_id": message_id,
            "clickup_task_id": task_id,
            "learning_points_from": source,
        },
    )


def _debrief_task(clickup: Any, settings: Any, case: Case, start: datetime, points: list[str]) -> str:
    account = case.account
    return ensure_clickup_task(
        clickup,
        settings.clickup_debrief_list_id,
        f"savedesk-{case.case_id}-debrief",
        name=f"Debrief: {account.company} cancellation",
        markdown=(
            f"**Client:** {account.company}\n**Account manager:** {account.account_manager_name}\n"
            f"**Proposed:** {start.strftime('%d %b %Y %H:%M UTC')}\n\n**Learning points**\n"
            + "\n".join(f"- {p}" for p in points)
            + f"\n\nSaveDesk case `{case.case_id}`"
        ),
        due_date=start.date(),
        tags=["savedesk"],
        priority=3,
    )
