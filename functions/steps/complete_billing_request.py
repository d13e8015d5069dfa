"""Lambda for the checklist step CompleteBillingRequest (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import complete_billing_request

handler = step_handler("CompleteBillingRequest", complete_billing_request.run)
