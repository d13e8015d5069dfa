"""Lambda for the checklist step SendThankYouNote (logic in savedesk.steps)."""

from savedesk.runtime import step_handler
from savedesk.steps import send_thank_you_note

handler = step_handler("SendThankYouNote", send_thank_you_note.run)
