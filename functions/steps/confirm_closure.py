"""Lambda for the checklist step ConfirmClosure (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import confirm_closure

handler = step_handler("ConfirmClosure", confirm_closure.run)
