"""Lambda for the checklist step ScheduleTeamDebrief (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import schedule_team_debrief

handler = step_handler("ScheduleTeamDebrief", schedule_team_debrief.run)
