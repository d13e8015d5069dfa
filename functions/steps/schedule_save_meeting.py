"""Lambda for the checklist step ScheduleSaveMeeting (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import schedule_save_meeting

handler = step_handler("ScheduleSaveMeeting", schedule_save_meeting.run)
