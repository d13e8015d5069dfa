"""Lambda for the checklist step CloseCase (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import close_case

handler = step_handler("CloseCase", close_case.run)
