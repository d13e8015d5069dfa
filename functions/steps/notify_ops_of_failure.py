"""Lambda for the checklist step NotifyOpsOfFailure (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import notify_ops_of_failure

handler = step_handler("NotifyOpsOfFailure", notify_ops_of_failure.run)
