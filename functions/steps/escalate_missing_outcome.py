"""Lambda for the checklist step EscalateMissingOutcome (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import escalate_missing_outcome

handler = step_handler("EscalateMissingOutcome", escalate_missing_outcome.run)
