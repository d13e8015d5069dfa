"""8. Deactivate the client's access to Topline and its tools, then verify it is gone.

`revoke_and_verify` reads the account back after the deactivate call and raises when anything
is still switched on: a 200 from the deactivate call is not proof.
"""

from __future__ import annotations

from typing import Any

from savedesk.errors import MissingClientData
from savedesk.models import Case
from savedesk.steps.runner import StepContext, StepOutcome

STEP = "DeactivateToplineAccess"
REQUESTED_BY = "savedesk"


def require_topline_account(case: Case) -> str:
    if not case.account.topline_account_id:
        raise MissingClientData(
            f"{case.account.company} has no Topline account on file (CRM property for topline_account_id); "
            "add it in the CRM, then re-run this step"
        )
    return case.account.topline_account_id


def run(ctx: StepContext) -> StepOutcome:
    case, topline = ctx.case, ctx.deps.topline
    account_id = require_topline_account(case)

    def revoke() -> dict[str, Any]:
        account = topline.revoke_and_verify(
            account_id,
            reason=f"client cancelled (SaveDesk case {case.case_id})",
            requested_by=REQUESTED_BY,
            idempotency_key=f"{case.case_id}:{STEP}",
        )
        return {
            "topline_account_id": account.id,
            "deactivated_at": account.deactivated_at.isoformat() if account.deactivated_at else None,
            # Verified: every user is inactive and every integration disconnected, so all of them count.
            "users_deactivated": len(account.users),
            "integrations_disconnected": [i.name for i in account.integrations],
        }

    details = ctx.once("topline:revoke_access", revoke)
    users = details["users_deactivated"]
    integrations = len(details["integrations_disconnected"])
    return StepOutcome(
        summary=(
            f"Topline access revoked and verified: {users} user{'s' if users != 1 else ''}, "
            f"{integrations} integration{'s' if integrations != 1 else ''} disconnected"
        ),
        details=details,
    )
