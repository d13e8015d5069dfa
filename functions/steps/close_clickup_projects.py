"""Lambda for the checklist step CloseClickUpProjects (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import close_clickup_projects

handler = step_handler("CloseClickUpProjects", close_clickup_projects.run)
