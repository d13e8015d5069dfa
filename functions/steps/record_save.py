"""Lambda for the checklist step RecordSave (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import record_save

handler = step_handler("RecordSave", record_save.run)
