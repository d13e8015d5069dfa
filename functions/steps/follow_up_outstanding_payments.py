"""Lambda for the checklist step FollowUpOutstandingPayments (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import follow_up_outstanding_payments

handler = step_handler("FollowUpOutstandingPayments", follow_up_outstanding_payments.run)
