"""A whole case, cancel to offboarded, logs no client contact data, Stripe ids, tokens or webhook secrets.

What the handlers log is read twice: the JSON lines Powertools formats (a handler on its
logger with its own formatter) and everything written to stdout/stderr. Step summaries go
to ops and may name the company; nothing else about the client may appear.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from local.stack import DEFAULT_SECRETS, VENDOR_TOKENS, LocalStack
from savedesk.observability import logger as savedesk_logger
from tests.integration.conftest import (
    cancel_body,
    load_event,
    post_standard,
    wait_for_execution_end,
    wait_for_token,
)

pytestmark = pytest.mark.stack

STRIPE_ID = re.compile(r"\b(cus|pi|sub|re|in|ch|pm)_[A-Za-z0-9]{6,}")


@pytest.fixture
def formatted_logs() -> Iterator[io.StringIO]:
    """The exact lines Powertools writes, collected in memory while the test runs."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(savedesk_logger.registered_formatter)
    savedesk_logger.addHandler(handler)
    yield lines
    savedesk_logger.removeHandler(handler)


def test_a_whole_case_logs_no_pii_or_secrets(
    stack: LocalStack, formatted_logs: io.StringIO, capfd: pytest.CaptureFixture[str]
) -> None:
    stack.vendor("clickup").rate_limit = 1000
    body = cancel_body()
    response = post_standard(stack, "/webhooks/crm", body)
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]
    wait_for_token(stack, case_id)
    outcome = load_event("form-meeting-outcome-cancel.json") | {"case_id": case_id}
    assert post_standard(stack, "/webhooks/forms", outcome).status_code == 200
    assert wait_for_execution_end(stack, case_id, timeout=120)["status"] == "SUCCEEDED"

    captured = capfd.readouterr()
    logged = formatted_logs.getvalue()
    everything = "\n".join([logged, captured.out, captured.err])
    # The capture worked: the case's own lines are there, from the ingress and from the last step.
    assert case_id in logged and "step finished" in logged
    assert "ScheduleTeamDebrief" in logged

    address = body["mailing_address"]
    sensitive = {
        "client email": body["contact_email"],
        "client email (shared part)": body["contact_email"].split("@")[0].split("+")[0] + "@",
        "contact name": body["contact_name"],
        "contact surname": body["contact_name"].split()[-1],
        "account manager email": body["account_manager_email"],
        "account manager name": body["account_manager_name"],
        "street": address["line1"],
        "postal code": address["postal_code"],
        "billing customer id": body["billing_customer_id"],
        **{f"vendor token {name}": value for name, value in VENDOR_TOKENS.items()},
        **{f"webhook secret {name}": value for name, value in DEFAULT_SECRETS.items()},
    }
    found = {what: value for what, value in sensitive.items() if value in everything}
    assert not found, f"sensitive values in the logs: {found}"
    assert not STRIPE_ID.findall(everything), STRIPE_ID.findall(everything)
