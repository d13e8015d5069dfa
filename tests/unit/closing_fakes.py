"""Fakes for the closing offboarding steps' tests: a case store on moto, recording vendor clients.

Only the vendors and the mailer are faked; the store is the real CaseStore over a moto table
built from template.yaml's CasesTable, so effects, step records and events behave as deployed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import Any

from local.template import LocalTemplate
from savedesk.integrations.mailfold import CardOrder, PostalAddress, order_card_once
from savedesk.integrations.slack import PostedMessage
from savedesk.models import Case, ClientAccount
from savedesk.models import PostalAddress as CasePostalAddress
from savedesk.settings import Settings
from savedesk.store import CaseStore

TABLE = "savedesk-cases-test"
CASE_ID = "case-ACME-001-20261124"


@cache
def cases_table_properties() -> dict[str, Any]:
    # Parsing template.yaml costs more than the rest of a test; every test uses the same table.
    return dict(LocalTemplate().resources["CasesTable"]["Properties"])


def create_cases_table(client: Any) -> CaseStore:
    props = cases_table_properties()
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode=props["BillingMode"],
    )
    return CaseStore(TABLE, client)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "cases_table": TABLE,
        "webhook_secrets_id": "webhook-secrets",
        "vendor_secrets_id": "vendor-secrets",
        "public_base_url": "https://savedesk.example",
        "sender_email": "success@topline-agency.example",
        "email_configuration_set": "savedesk",
        "owner_email": "joey@topline-agency.example",
        "coordinator_email": "sam.rivera@topline-agency.example",
        "ops_slack_channel": "C0OPS00001",
        "owner_slack_user_id": "U0JOEY0001",
        "exit_survey_url": "https://topline.typeform.com/to/exitSurvey",
        "outcome_form_url": "https://topline.typeform.com/to/meetingOutcome",
        "booking_url": "https://calendly.com/topline-agency/account-review",
        "meeting_reminder_after_seconds": 172800,
        "meeting_escalate_after_seconds": 432000,
        "refund_approval_threshold": Decimal("1000.00"),
        "mailfold_enabled": False,
        "clickup_ads_team_list_id": "901200777",
        "clickup_account_management_list_id": "901200999",
        "clickup_debrief_list_id": "901200888",
        "crm_property_map": {},
        "slack_api_base": "http://127.0.0.1:9/slack/api",
        "clickup_api_base": "http://127.0.0.1:9/clickup/api/v2",
        "stripe_api_base": "http://127.0.0.1:9/stripe",
        "topline_api_base": "http://127.0.0.1:9/topline",
        "mailfold_api_base": "http://127.0.0.1:9/mailfold/v1",
    }
    return Settings.model_validate({**values, **overrides})


DEMO_ADDRESS = CasePostalAddress(
    line1="100 Harbor St", line2="Suite 4", city="Portland", region="OR", postal_code="97201", country="US"
)


def demo_case(**account_overrides: Any) -> Case:
    """The demo client (docs/demo-client.md), cancelling on 24 Nov 2026, with the contract reviewed."""
    account: dict[str, Any] = {
        "account_id": "ACME-001",
        "company": "Acme Dental Group",
        "contact_name": "Dana Whitfield",
        "contact_email": "dana@acme-dental.example",
        "account_manager_name": "Priya Natarajan",
        "account_manager_email": "priya@topline-agency.example",
        "account_manager_slack_id": "U0AM00001",
        "mrr": Decimal("4000.00"),
        "currency": "USD",
        "contract_start": date(2026, 7, 1),
        "term_months": 6,
        "notice_days": 30,
        "slack_channel": "C0ACME0001",
        "mailing_address": DEMO_ADDRESS,
    }
    account.update(account_overrides)
    return Case(
        case_id=CASE_ID,
        source="hubspot",
        delivery_id="delivery-1",
        opened_at=datetime(2026, 11, 24, 14, 5, tzinfo=UTC),
        account=ClientAccount(**account),
        contract_review={
            "currency": "USD",
            "inside_minimum_term": True,
            "commitment_end": "2026-12-31",
            "effective_end_date": "2026-12-31",
            "remaining_obligation": "4000.00",
            "save_levers": [
                {"code": "discount", "title": "15% off for 3 months", "detail": "$600.00 a month less."},
                {"code": "pause", "title": "Pause for up to 2 months", "detail": "No fee while paused."},
            ],
            "summary": "Inside the 6-month minimum term until 31 Dec 2026.",
        },
    )


@dataclass
class FakeMailer:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send(
        self,
        to: list[str],
        rendered: Any,
        *,
        case_id: str,
        reply_to: str | None = None,
        cc: list[str] | None = None,
        attachments: list[Any] | None = None,
    ) -> str:
        self.sent.append(
            {
                "to": to,
                "rendered": rendered,
                "case_id": case_id,
                "reply_to": reply_to,
                "cc": cc,
                "attachments": attachments or [],
            }
        )
        return f"ses-{len(self.sent)}"


@dataclass
class FakeSlack:
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_next: Exception | None = None

    def post_message(
        self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None
    ) -> PostedMessage:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.posts.append({"channel": channel, "text": text, "blocks": blocks or []})
        return PostedMessage(channel=channel, ts=f"1764000000.{len(self.posts):06d}")


@dataclass
class FakeClickUp:
    tasks: list[SimpleNamespace] = field(default_factory=list)
    created: int = 0
    fail_next: Exception | None = None

    def find_task_by_tag(self, list_id: str, tag: str) -> SimpleNamespace | None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        return next((t for t in self.tasks if t.list_id == list_id and tag.lower() in t.tags), None)

    def create_task(self, list_id: str, name: str, markdown: str, **kwargs: Any) -> SimpleNamespace:
        self.created += 1
        task = SimpleNamespace(
            id=f"task{self.created}",
            list_id=list_id,
            name=name,
            markdown=markdown,
            due_date=kwargs.get("due_date"),
            tags=[t.lower() for t in kwargs.get("tags", ())],
        )
        self.tasks.append(task)
        return task


@dataclass
class FakeMailfold:
    """A CardSender keeping orders in memory; `order_card_once` is the real look-up-then-order logic."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    fail_next: Exception | None = None

    def order_card(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        order = CardOrder(id=f"ord_{len(self.orders) + 1}", status="queued", reference=reference)
        self.orders.append({"order": order, "recipient": recipient, "message": message})
        return order

    def find_order(self, reference: str) -> CardOrder | None:
        return next((o["order"] for o in self.orders if o["order"].reference == reference), None)

    def order_card_once(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
        return order_card_once(self, recipient, message, reference)


@dataclass
class FakeDeps:
    settings: Settings
    mailer: FakeMailer = field(default_factory=FakeMailer)
    slack: FakeSlack = field(default_factory=FakeSlack)
    clickup: FakeClickUp = field(default_factory=FakeClickUp)
    mailfold: FakeMailfold = field(default_factory=FakeMailfold)


def record_step(store: CaseStore, case_id: str, step: str, summary: str, details: dict[str, Any]) -> None:
    """Record a finished upstream step, as the runner would, so later steps can read its facts."""
    store.start_step(case_id, step)
    store.complete_step(case_id, step, {"summary": summary, "details": details, "output": None})
    store.append_event(case_id, "step_completed", {"step": step, "summary": summary, "forced": False})
