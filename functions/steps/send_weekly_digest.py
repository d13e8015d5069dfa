"""Scheduled Lambda (Monday 08:00 UTC): the owner's weekly digest (logic in savedesk.steps)."""

from typing import Any

from savedesk import wiring
from savedesk.models import utcnow
from savedesk.observability import logger
from savedesk.steps.send_weekly_digest import send_weekly_digest


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deps = wiring.Deps(context)
    result = send_weekly_digest(
        wiring.store(),
        deps.mailer,
        deps.settings.owner_email,
        utcnow(),
        agency_name=deps.settings.agency_name,
        force=bool(event.get("force")),
    )
    logger.info("weekly digest", extra={"week": result.week, "sent": result.sent, "message_id": result.message_id})
    return {"week": result.week, "sent": result.sent, "message_id": result.message_id}
