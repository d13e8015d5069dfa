"""Lambda for the checklist step ProcessRefund (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import process_refund

handler = step_handler("ProcessRefund", process_refund.run)
