"""Lambda for the checklist step SendMeetingReminder (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import send_meeting_reminder

handler = step_handler("SendMeetingReminder", send_meeting_reminder.run)
