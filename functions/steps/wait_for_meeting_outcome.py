"""Lambda behind the callback state WaitForMeetingOutcome: keeps the task token until the answer arrives."""

from savedesk.runtime import wait_handler

handler = wait_handler()
