"""Lambda for the checklist step AcknowledgeCancellationRequest (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import acknowledge_cancellation_request

handler = step_handler("AcknowledgeCancellationRequest", acknowledge_cancellation_request.run)
