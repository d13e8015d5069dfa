"""Lambda for the checklist step DeactivateToplineAccess (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import deactivate_topline_access

handler = step_handler("DeactivateToplineAccess", deactivate_topline_access.run)
