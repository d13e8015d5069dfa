"""`make demo`: two cancellations of the demo client on the embedded local stack, told as a timeline.

1. Acme Dental Group clicks cancel in HubSpot; the save meeting keeps them (a 15% discount).
2. A month on, they cancel again through a Standard-Webhooks CRM; this time they leave, and
   SaveDesk offboards them through every checklist item.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from local.client import send_hubspot, send_standard, send_typeform, wait_for
from local.stack import LocalStack, Ports
from local.template import ROOT

EVENTS = ROOT / "events"
WIDTH = 100


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(text)
    say("=" * min(WIDTH, len(text)))


class Demo:
    def __init__(self, stack: LocalStack) -> None:
        from savedesk.store import CaseStore

        self.stack = stack
        self.sfn = stack.client("stepfunctions")
        self.store = CaseStore(stack.template.physical["CasesTable"], client=stack.client("dynamodb"))

    def execution(self, case_id: str) -> dict[str, Any]:
        arn = self.stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
        return self.sfn.describe_execution(executionArn=arn)

    def last_state(self, case_id: str) -> str:
        arn = self.stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
        events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
        return entered[-1] if entered else "-"

    def await_token(self, case_id: str) -> None:
        try:
            wait_for(lambda: self.store.peek_task_token(case_id, "meeting"), 60, "the workflow to wait for the meeting")
        except TimeoutError as timed_out:
            raise SystemExit(f"demo: {timed_out}") from None

    def await_end(self, case_id: str) -> dict[str, Any]:
        say("  ... the workflow runs; progress:")
        seen: set[str] = set()

        def ended() -> dict[str, Any] | None:
            for step, record in self.store.steps(case_id).items():
                if step not in seen and record["status"] == "COMPLETED":
                    seen.add(step)
                    say(f"      done: {step}")
            execution = self.execution(case_id)
            return execution if execution["status"] != "RUNNING" else None

        try:
            return wait_for(ended, 300, f"case {case_id} to finish", interval=0.2)
        except TimeoutError:
            raise SystemExit(f"demo: case {case_id} did not finish in time") from None

    def timeline(self, case_id: str, calls_from: int, emails_from: int) -> None:
        case = self.store.get_case(case_id)
        assert case is not None
        events = self.store.events(case_id)
        start = datetime.fromisoformat(events[0]["at"]) if events else None
        say("  Timeline (the case's event log):")
        for entry in events:
            offset = (datetime.fromisoformat(entry["at"]) - start).total_seconds() if start else 0.0
            detail = entry["detail"]
            if entry["kind"] == "step_completed":
                line = f"{detail['step']}: {detail['summary']}"
            elif entry["kind"] in ("step_waiting", "step_failed"):
                line = (
                    f"{detail['step']} ({entry['kind'].removeprefix('step_')}): "
                    f"{detail.get('summary') or detail.get('message')}"
                )
            else:
                line = entry["kind"].replace("_", " ") + (
                    f" ({', '.join(f'{k}={v}' for k, v in detail.items() if k != 'step')})" if detail else ""
                )
            say(f"    +{offset:6.2f}s  {line}"[: WIDTH + 40])

        say("  Emails sent (SES, written to the outbox):")
        for message in self.stack.sent_emails()[emails_from:]:
            html = self.stack.outbox / f"{_message_id(message, self.stack)}.html"
            attachments = [str(p.get_filename()) for p in message.walk() if p.get_filename()]
            extra = f"  + {', '.join(attachments)}" if attachments else ""
            say(f'    to {message["To"]}: "{message["Subject"]}"{extra}')
            if html.exists():
                say(f"       {html.relative_to(ROOT) if html.is_relative_to(ROOT) else html}")

        say("  Calls to the vendors (stand-ins; full log in .local/sandbox/calls.jsonl):")
        counted = Counter(
            (c["vendor"], c["method"], _shape(c["path"]), c["status"]) for c in self.stack.calls.calls[calls_from:]
        )
        for (vendor, method, path, status), count in sorted(counted.items()):
            say(f"    {vendor:9} {method:6} {path:48} {status}  x{count}")
        execution = self.execution(case_id)
        say(
            f"  Result: execution {execution['status']} at state {self.last_state(case_id)}; "
            f"case status {case.status.value}"
        )


def _shape(path: str) -> str:
    """/clickup/api/v2/task/abc123 -> /clickup/api/v2/task/{id}: one line per kind of call."""
    return "/".join("{id}" if re.search(r"\d", part) and not part.startswith("v") else part for part in path.split("/"))


def _message_id(message: Any, stack: LocalStack) -> str:
    from moto.ses.models import ses_backends

    for sent in ses_backends["123456789012"]["us-east-1"].sent_messages:
        if getattr(sent, "raw_data", None) and message["Message-ID"] in sent.raw_data:
            return str(sent.id)
    return "unknown"


def run(stack: LocalStack) -> int:
    demo = Demo(stack)
    say(
        f"SaveDesk demo on the local stack: API {stack.api_url}, AWS (moto) {stack.aws_url}, "
        f"vendor stand-ins {stack.sandbox_url}"
    )
    failures = 0

    heading("Case 1: Acme Dental Group clicks cancel in HubSpot, and the save meeting keeps them")
    calls_from, emails_from = len(stack.calls.calls), len(stack.sent_emails())
    response = send_hubspot(stack.api_url, event("crm-cancel-hubspot.json"))
    say(f"  HubSpot -> POST /webhooks/crm/hubspot: {response.status_code} {response.text}")
    case_id = response.json()["case_id"]
    demo.await_token(case_id)
    survey = event("typeform-exit-survey.json")
    survey["form_response"]["hidden"]["case_id"] = case_id
    response = send_typeform(stack.api_url, survey)
    say(f"  Client fills the exit survey -> POST /webhooks/forms/typeform: {response.status_code}")
    response = send_standard(
        stack.api_url, "/webhooks/forms", event("form-meeting-outcome-saved.json") | {"case_id": case_id}
    )
    say(f"  Account manager records 'saved' -> POST /webhooks/forms: {response.status_code} {response.text}")
    execution = demo.await_end(case_id)
    demo.timeline(case_id, calls_from, emails_from)
    failures += not (execution["status"] == "SUCCEEDED" and demo.last_state(case_id) == "Saved")

    heading("Case 2: they cancel again; this time they leave, and SaveDesk offboards them")
    calls_from, emails_from = len(stack.calls.calls), len(stack.sent_emails())
    response = send_standard(stack.api_url, "/webhooks/crm", event("crm-cancel-standard.json"))
    say(f"  CRM -> POST /webhooks/crm: {response.status_code} {response.text}")
    case_id = response.json()["case_id"]
    demo.await_token(case_id)
    response = send_standard(
        stack.api_url, "/webhooks/forms", event("form-meeting-outcome-cancel.json") | {"case_id": case_id}
    )
    say(f"  Account manager records 'cancel' -> POST /webhooks/forms: {response.status_code} {response.text}")
    execution = demo.await_end(case_id)
    demo.timeline(case_id, calls_from, emails_from)
    failures += not (execution["status"] == "SUCCEEDED" and demo.last_state(case_id) == "Closed")

    heading("Done" if not failures else "The demo did not end as expected")
    say(f"  Emails: {stack.outbox}/  (open the .html files in a browser)")
    say(f"  Vendor calls: {stack.calls_log}")
    say("  Inspect more: make serve, then the README's 'Looking around' section.")
    return 1 if failures else 0


def main() -> None:
    state_dir = ROOT / ".local"
    for old in (state_dir / "outbox").glob("*"):
        old.unlink()
    (state_dir / "sandbox" / "calls.jsonl").unlink(missing_ok=True)
    say("Starting the local stack (moto, the HTTP API, the vendor stand-ins) ...")
    stack = LocalStack(ports=Ports.free(), state_dir=Path(state_dir), log_level="WARNING").start()
    # The agency's ClickUp workspace is on Business Plus (1,000 requests a minute); the Free plan's
    # 100 a minute would pause the close-out of Acme's 122 tasks for a minute (tests cover that path).
    stack.vendor("clickup").rate_limit = 1000
    try:
        code = run(stack)
    finally:
        stack.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
