"""9. Close out every outstanding project of the client in ClickUp.

Every open task of the client's lists is moved to a closed status. The lists are the client's
folder's lists; only when no folder is on file, the folderless lists of the client's space.
A space on file next to a folder is usually the agency's shared "Clients" space (as for the demo
client), whose folderless lists are not this client's to close. A client can have hundreds of tasks and
ClickUp allows 100 requests a minute, so the step may run out of time or be rate limited part
way: each closed task is recorded as its own effect, and a retry carries on where it stopped.
"""

from __future__ import annotations

from typing import Any

from savedesk.errors import MissingClientData
from savedesk.models import Case
from savedesk.steps.runner import StepContext, StepOutcome

CLOSE_EFFECT = "clickup:close:"
PROGRESS_EVERY = 25


def require_clickup_location(case: Case) -> tuple[str | None, str | None]:
    account = case.account
    if not account.clickup_folder_id and not account.clickup_space_id:
        raise MissingClientData(
            f"{account.company} has no ClickUp folder or space on file (CRM property for clickup_folder_id "
            "or clickup_space_id); add one in the CRM, then re-run this step"
        )
    return account.clickup_folder_id, account.clickup_space_id


def run(ctx: StepContext) -> StepOutcome:
    clickup = ctx.deps.clickup
    folder_id, space_id = require_clickup_location(ctx.case)

    task_lists = clickup.lists_in_folder(folder_id) if folder_id else clickup.lists_in_space(space_id)

    closed_now = 0
    for task_list in task_lists:
        # Collect first, then close: closing while paging would shift the pages under us.
        for task in clickup.open_tasks(task_list.id):

            def close(task_id: str = task.id, list_id: str = task_list.id) -> str:
                clickup.close_task(task_id)
                return list_id

            ctx.once(f"{CLOSE_EFFECT}{task.id}", close)
            closed_now += 1
            if closed_now % PROGRESS_EVERY == 0:
                ctx.log("progress", {"closed_this_run": closed_now, "list_id": task_list.id})

    # The effects hold every task closed by this step, earlier (interrupted) runs included.
    closed = {
        key.removeprefix(CLOSE_EFFECT): effect["value"]
        for key, effect in ctx.effects.items()
        if key.startswith(CLOSE_EFFECT) and effect.get("done")
    }
    lists: list[dict[str, Any]] = [
        {"id": tl.id, "name": tl.name, "closed": sum(1 for list_id in closed.values() if list_id == tl.id)}
        for tl in task_lists
    ]
    summary = (
        f"Closed {len(closed)} open ClickUp task{'s' if len(closed) != 1 else ''} across {len(task_lists)} "
        f"list{'s' if len(task_lists) != 1 else ''}"
    )
    return StepOutcome(
        summary=summary,
        details={"closed": len(closed), "lists": lists, "closed_task_ids": sorted(closed)},
    )
