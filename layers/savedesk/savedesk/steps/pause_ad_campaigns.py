"""10. Ask the ads team to pause all campaigns and stop ad spend (a ClickUp task in their list).

SaveDesk has no access to the ad platforms; people do, so the step hands them an urgent,
complete checklist. ClickUp has no idempotency key: the task carries a tag made of the case
id, and the tag is looked up before a task is created.
"""

from __future__ import annotations

from datetime import date

from savedesk.contract_terms import format_date
from savedesk.models import Case
from savedesk.steps.common import ensure_clickup_task, today
from savedesk.steps.runner import StepContext, StepOutcome

URGENT = 1


def ads_task_tag(case: Case) -> str:
    return f"savedesk-{case.case_id}-ads"


def task_markdown(case: Case) -> str:
    account = case.account
    end = (case.contract_review or {}).get("effective_end_date")
    end_text = format_date(date.fromisoformat(end)) if end else "not reviewed (ask the account manager)"
    return (
        f"**{account.company}** has cancelled. Pause every campaign and stop all ad spend today.\n\n"
        f"- **Client:** {account.company} (CRM account {account.account_id})\n"
        f"- **Topline account:** {account.topline_account_id or 'not on file'}\n"
        f"- **Effective end date:** {end_text}\n"
        f"- **Account manager:** {account.account_manager_name}\n\n"
        "**Checklist**\n\n"
        "- [ ] Pause every campaign on Google Ads\n"
        "- [ ] Pause every campaign on Meta (Facebook / Instagram)\n"
        "- [ ] Pause every campaign on LinkedIn\n"
        "- [ ] Remove our payment methods / stop recurring spend on each platform\n"
        "- [ ] Confirm here in this task (a comment with what was paused), then close it\n\n"
        f"SaveDesk case `{case.case_id}`"
    )


def run(ctx: StepContext) -> StepOutcome:
    case, settings = ctx.case, ctx.deps.settings
    list_id = settings.clickup_ads_team_list_id
    tag = ads_task_tag(case)
    task_id = ctx.once(
        "clickup:ads_task",
        lambda: ensure_clickup_task(
            ctx.deps.clickup,
            list_id,
            tag,
            name=f"Pause all ad campaigns: {case.account.company}",
            markdown=task_markdown(case),
            due_date=today(),
            tags=["savedesk", "offboarding"],
            priority=URGENT,
        ),
    )
    return StepOutcome(
        summary="Ads team asked (urgent ClickUp task) to pause every campaign and stop ad spend",
        details={"clickup_task_id": task_id, "list_id": list_id},
    )
