"""Lambda for the checklist step DocumentCancellationReasons (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import document_cancellation_reasons

handler = step_handler("DocumentCancellationReasons", document_cancellation_reasons.run)
