"""Lambda for the checklist step AnalyseFeedback (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import analyse_feedback

handler = step_handler("AnalyseFeedback", analyse_feedback.run)
