"""Error classes the workflow tells apart by name.

Step Functions matches `Retry`/`Catch` on the exception's class name (the Lambda
`errorType`), so these names are part of the ASL's contract: rename one, change the ASL.
"""


class SaveDeskError(Exception):
    """Base of everything SaveDesk raises on purpose."""


class TransientError(SaveDeskError):
    """Worth retrying: timeouts, 5xx, throttling. The ASL retries it with backoff and jitter."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The vendor asked us to wait longer than this invocation can (429 + Retry-After / X-RateLimit-Reset).

    The ASL retries it after a longer pause than other transient errors: a per-minute window
    (ClickUp's 100 requests a minute) needs tens of seconds, not the 2 s of a flaky 502.
    """


class PermanentError(SaveDeskError):
    """Retrying will not help (bad request, auth, missing data). The ASL does not retry it."""


class MissingClientData(PermanentError):
    """The case lacks a piece of client data a step needs (a Slack channel, a billing customer)."""


class VendorError(PermanentError):
    """A vendor refused the request for a reason that a retry does not change."""
