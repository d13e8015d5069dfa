"""What the step tests share: the real CaseStore on moto, the demo case, fake vendor clients.

The store is the real one (a DynamoDB table built from template.yaml's CasesTable inside moto's
`mock_aws`), so the runner's recorded effects, step records and events behave as they do in Lambda.
Only the vendors and the mailer are fakes here: in-memory, recording every call, with switches for
the failures the tests need. Tests that use the real clients serve the stand-ins with
`local.sandbox.app.serve`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from local.template import REGION, LocalTemplate
from savedesk.errors import TransientError, VendorError
from savedesk.integrations.billing import Invoice, Payment, Refund, Subscription
from savedesk.integrations.clickup import Task, TaskList
from savedesk.integrations.mailfold import CardOrder, PostalAddress, order_card_once
from savedesk.integrations.slack import PostedMessage
from savedesk.integrations.topline import ToplineAccount, ToplineIntegration, ToplineUser
from savedesk.models import Case, ClientAccount, ExitReasons
from savedesk.models import PostalAddress as CasePostalAddress
from savedesk.settings import Settings
from savedesk.steps.runner import StepContext, StepOutcome, run_step
from savedesk.store import CaseStore

CASE_ID = "case-acme-0001"


# --------------------------------------------------------------------------- the store


@cache
def _cases_table_properties() -> dict[str, Any]:
    # Parsing template.yaml costs more than the rest of a test; every test uses the same table.
    return dict(LocalTemplate().resources["CasesTable"]["Properties"])


@contextmanager
def moto_dynamodb() -> Iterator[Any]:
    """moto's DynamoDB (for a test module: starting it per test costs half a second)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def new_case_store(client: Any) -> CaseStore:
    """A CaseStore over a fresh cases table, created from template.yaml's own definition."""
    props = _cases_table_properties()
    name = f"savedesk-CasesTable-{next(_table_numbers)}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode=props["BillingMode"],
    )
    return CaseStore(name, client=client)


_table_numbers = itertools.count(1)


# --------------------------------------------------------------------------- the case and settings


def settings(**overrides: Any) -> Settings:
    """The stack's settings with template.yaml's defaults, vendors on a closed port (the fakes answer)."""
    values: dict[str, Any] = {
        "cases_table": "savedesk-CasesTable",
        "webhook_secrets_id": "savedesk/WebhookSecrets",
        "vendor_secrets_id": "savedesk/VendorSecrets",
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
        "refund_approval_threshold": Decimal("2000.00"),  # the refund tests' 1,500.00 needs no approval
        "mailfold_enabled": False,
        "clickup_ads_team_list_id": "901200777",
        "clickup_account_management_list_id": "901200999",
        "clickup_debrief_list_id": "901200888",
        "crm_property_map": {},
        "slack_api_base": "http://127.0.0.1:9/slack/api",
        "clickup_api_base": "http://127.0.0.1:9/clickup/api/v2",
        "stripe_api_base": "http://127.0.0.1:9/stripe",
        "topline_api_base": "http://127.0.0.1:9/topline",
        "mailfold_api_base": "http://127.0.0.1:9/mailfold",
    }
    values.update(overrides)
    return Settings.model_validate(values)


def contract_review(**overrides: Any) -> dict[str, Any]:
    """The demo client's stored ContractReview (JSON, as on the case), as far as the steps read it."""
    review: dict[str, Any] = {
        "currency": "USD",
        "inside_minimum_term": True,
        "commitment_end": "2026-12-31",
        "effective_end_date": "2026-12-31",
        "remaining_obligation": "4000.00",
        "refund_eligible": False,
        "refund_amount": "0.00",
        "refund_needs_approval": False,
        "refund_reason": "No refund: nothing is prepaid beyond 31 Dec 2026, when billing ends.",
        "save_levers": [
            {"code": "discount", "title": "15% off for 3 months", "detail": "$600.00 a month less."},
            {"code": "pause", "title": "Pause for up to 2 months", "detail": "No fee while paused."},
        ],
        "summary": "Inside the 6-month minimum term until 31 Dec 2026.",
    }
    review.update(overrides)
    return review


DEMO_ADDRESS = CasePostalAddress(
    line1="100 Harbor St", line2="Suite 4", city="Portland", region="OR", postal_code="97201", country="US"
)


def demo_case(review: dict[str, Any] | None = None, reason_codes: list[str] | None = None, **account: Any) -> Case:
    """The demo client of docs/demo-client.md, cancelling on 24 Nov 2026 (for price and results),
    with the contract reviewed and `account` fields overridden (None removes one)."""
    fields: dict[str, Any] = {
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
        "clickup_space_id": None,
        "clickup_folder_id": "90130001",
        "billing_customer_id": "cus_AcmeDental01",
        "topline_account_id": "tl_acme_001",
    }
    fields.update(account)
    return Case(
        case_id=CASE_ID,
        source="hubspot",
        delivery_id="delivery-1",
        opened_at=datetime(2026, 11, 24, 14, 5, tzinfo=UTC),
        account=ClientAccount.model_validate(fields),
        reasons=ExitReasons(codes=reason_codes if reason_codes is not None else ["price", "results"]),
        contract_review=review if review is not None else contract_review(),
        offboarding_reason="cancel",
    )


def open_case(store: CaseStore, case: Case) -> Case:
    outcome = store.open_case(case, {"source": "test"})
    assert outcome.created
    return case


# --------------------------------------------------------------------------- running a step


@dataclass
class Deps:
    """What wiring.Deps gives a step. A vendor left None fails the test if the step reaches for it."""

    settings: Settings = field(default_factory=settings)
    billing: Any = None
    clickup: Any = None
    topline: Any = None
    mailer: Any = None
    slack: Any = None
    mailfold: Any = None

    @classmethod
    def with_fakes(cls, **given: Any) -> Deps:
        """A fake mailer, Slack, ClickUp and Mailfold (what the closing steps use), unless `given`."""
        fakes = {"mailer": FakeMailer(), "slack": FakeSlack(), "clickup": FakeClickUp(), "mailfold": FakeMailfold()}
        return cls(**(fakes | given))


def run(
    step: str,
    action: Callable[[StepContext], StepOutcome],
    store: CaseStore,
    deps: Deps,
    **event: Any,
) -> dict[str, Any]:
    """Run one step as its Lambda does (through the runner), for the demo case."""
    return run_step(step, {"case_id": CASE_ID, **event}, store, deps, action)


def details(store: CaseStore, step: str) -> dict[str, Any]:
    """What ConfirmClosure and AnalyseFeedback read: the completed step's details."""
    record = store.get_step(CASE_ID, step)
    assert record is not None and record["status"] == "COMPLETED", record
    return record["result"]["details"]


def record_step(store: CaseStore, case_id: str, step: str, summary: str, details: dict[str, Any]) -> None:
    """Record a finished upstream step, as the runner would, so later steps can read its facts."""
    store.start_step(case_id, step)
    store.complete_step(case_id, step, {"summary": summary, "details": details, "output": None})
    store.append_event(case_id, "step_completed", {"step": step, "summary": summary, "forced": False})


# --------------------------------------------------------------------------- fake vendors


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


class FakeBilling:
    """Stripe as BillingClient shows it, with its idempotency keys (and their 24 h expiry)."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.invoices: list[Invoice] = []
        self.payments: dict[str, Payment] = {}
        self.refunds: list[Refund] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._replies: dict[str, Any] = {}
        # Raise this after the next refund is made, as a Lambda timing out before it heard back.
        self.crash_after_refund: Exception | None = None

    # -- seeding
    def add_subscription(self, sub_id: str, period_end: date, status: str = "active") -> None:
        self.subscriptions[sub_id] = Subscription(
            id=sub_id,
            status=status,
            cancel_at_period_end=False,
            cancel_at=None,
            current_period_end=period_end,
            amount=400000,
            currency="usd",
        )

    def add_invoice(self, invoice_id: str, amount_remaining: int, due: date | None = date(2026, 11, 20)) -> None:
        self.invoices.append(
            Invoice(
                id=invoice_id,
                number=f"ACME-{len(self.invoices) + 1:04d}",
                amount_remaining=amount_remaining,
                currency="usd",
                due_date=due,
                hosted_invoice_url=f"https://invoice.stripe.example/{invoice_id}",
            )
        )

    def add_payment(self, intent: str, amount: int, paid_on: date, refunded: int = 0) -> None:
        self.payments[intent] = Payment(
            payment_intent=intent, amount=amount, amount_refunded=refunded, currency="usd", created=_ts(paid_on)
        )

    def expire_idempotency_keys(self) -> None:
        """Stripe keeps a key 24 hours; after that the same key makes a new request."""
        self._replies.clear()

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == method]

    # -- BillingClient's interface
    def active_subscriptions(self, customer_id: str) -> list[Subscription]:
        self.calls.append(("active_subscriptions", {"customer_id": customer_id}))
        return [s for s in self.subscriptions.values() if not s.ended]

    def stop_billing(
        self,
        subscription_id: str,
        at: date | None,
        idempotency_key: str,
        comment: str | None = None,
        feedback: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Subscription:
        self.calls.append(
            (
                "stop_billing",
                {
                    "subscription_id": subscription_id,
                    "at": at,
                    "idempotency_key": idempotency_key,
                    "comment": comment,
                    "feedback": feedback,
                    "metadata": metadata,
                },
            )
        )
        current = self.subscriptions[subscription_id]
        updated = current.model_copy(update={"cancel_at": at, "cancel_at_period_end": at is None})
        self.subscriptions[subscription_id] = updated
        return updated

    def open_invoices(self, customer_id: str) -> list[Invoice]:
        self.calls.append(("open_invoices", {"customer_id": customer_id}))
        return list(self.invoices)

    def refundable_payments(self, customer_id: str) -> list[Payment]:
        self.calls.append(("refundable_payments", {"customer_id": customer_id}))
        found = [p for p in self.payments.values() if p.refundable > 0]
        return sorted(found, key=lambda p: p.created, reverse=True)

    def refund(
        self,
        payment_intent: str,
        amount_cents: int,
        idempotency_key: str,
        reason: str = "requested_by_customer",
        metadata: dict[str, str] | None = None,
    ) -> Refund:
        self.calls.append(
            (
                "refund",
                {
                    "payment_intent": payment_intent,
                    "amount_cents": amount_cents,
                    "idempotency_key": idempotency_key,
                    "metadata": metadata,
                },
            )
        )
        if idempotency_key in self._replies:
            return self._replies[idempotency_key]
        payment = self.payments[payment_intent]
        if amount_cents > payment.refundable:
            raise VendorError(f"stripe: 400 amount_too_large on {payment_intent}")
        refund = Refund(
            id=f"re_{len(self.refunds) + 1:04d}",
            amount=amount_cents,
            status="succeeded",
            currency="usd",
            payment_intent=payment_intent,
            metadata=metadata or {},
        )
        self.refunds.append(refund)
        self.payments[payment_intent] = payment.model_copy(
            update={"amount_refunded": payment.amount_refunded + amount_cents}
        )
        self._replies[idempotency_key] = refund
        if self.crash_after_refund is not None:
            crash, self.crash_after_refund = self.crash_after_refund, None
            raise crash
        return refund

    def refunds_for(self, payment_intent: str) -> list[Refund]:
        self.calls.append(("refunds_for", {"payment_intent": payment_intent}))
        return [r for r in self.refunds if r.payment_intent == payment_intent]


def _fail_if_asked(fake: Any) -> None:
    """Raise the fake's `fail_next` once (the vendor's next call fails), then answer again."""
    if fake.fail_next is not None:
        error, fake.fail_next = fake.fail_next, None
        raise error


class FakeMailer:
    """The SES mailer: every message sent, with its cc and attachments."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

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


class FakeSlack:
    """Slack's chat.postMessage; `fail_next` makes the next post raise."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.fail_next: Exception | None = None

    def post_message(
        self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None
    ) -> PostedMessage:
        _fail_if_asked(self)
        self.posts.append({"channel": channel, "text": text, "blocks": blocks or []})
        return PostedMessage(channel=channel, ts=f"1764000000.{len(self.posts):06d}")


class FakeTopline:
    def __init__(self, still_active: bool = False) -> None:
        self.still_active = still_active
        self.calls: list[dict[str, Any]] = []

    def revoke_and_verify(
        self, account_id: str, reason: str, requested_by: str, idempotency_key: str
    ) -> ToplineAccount:
        self.calls.append(
            {
                "account_id": account_id,
                "reason": reason,
                "requested_by": requested_by,
                "idempotency_key": idempotency_key,
            }
        )
        if self.still_active:
            raise VendorError(f"topline: account still active after deactivate: {account_id} (user x)")
        return ToplineAccount(
            id=account_id,
            name="Acme Dental Group",
            status="deactivated",
            users=[
                ToplineUser(id=f"usr_{i}", email=f"user{i}@acme-dental.example", role="admin", active=False)
                for i in range(3)
            ],
            integrations=[
                ToplineIntegration(name="google_ads", connected=False),
                ToplineIntegration(name="meta_ads", connected=False),
            ],
            deactivated_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
        )


class FakeClickUp:
    """ClickUp's hierarchy and tasks. `fail_after_closes` makes a close time out after that many
    succeeded; `fail_next` makes the next look-up or create raise."""

    def __init__(self) -> None:
        self.folder_lists: dict[str, list[TaskList]] = {}
        self.space_lists: dict[str, list[TaskList]] = {}
        self.tasks: dict[str, Task] = {}
        self.closed: list[str] = []
        self.created: list[dict[str, Any]] = []
        self.fail_after_closes: int | None = None
        self.fail_next: Exception | None = None
        self._counter = 0

    def add_list(self, list_id: str, name: str, open_tasks: int, folder: str | None = None, space: str | None = None):  # noqa: ANN201
        task_list = TaskList(id=list_id, name=name)
        if folder:
            self.folder_lists.setdefault(folder, []).append(task_list)
        if space:
            self.space_lists.setdefault(space, []).append(task_list)
        for _ in range(open_tasks):
            self._add_task(list_id, f"Task {self._counter}", "to do", "open", [])
        return task_list

    def _add_task(self, list_id: str, name: str, status: str, status_type: str, tags: list[str]) -> Task:
        self._counter += 1
        task = Task(
            id=f"t{self._counter:04d}",
            name=name,
            status=status,
            status_type=status_type,
            url=f"https://app.clickup.example/t/{self._counter}",
            list_id=list_id,
            tags=[t.lower() for t in tags],
        )
        self.tasks[task.id] = task
        return task

    def lists_in_folder(self, folder_id: str) -> list[TaskList]:
        return list(self.folder_lists.get(folder_id, []))

    def lists_in_space(self, space_id: str) -> list[TaskList]:
        return list(self.space_lists.get(space_id, []))

    def open_tasks(self, list_id: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.list_id == list_id and not t.is_closed]

    def close_task(self, task_id: str, status: str = "complete") -> Task:
        if self.fail_after_closes is not None and len(self.closed) >= self.fail_after_closes:
            self.fail_after_closes = None
            raise TransientError("clickup: timed out (ReadTimeout)")
        self.closed.append(task_id)
        task = self.tasks[task_id].model_copy(update={"status": status, "status_type": "closed"})
        self.tasks[task_id] = task
        return task

    def find_task_by_tag(self, list_id: str, tag: str) -> Task | None:
        _fail_if_asked(self)
        for task in self.tasks.values():
            if task.list_id == list_id and tag.lower() in task.tags:
                return task
        return None

    def create_task(self, list_id: str, name: str, markdown: str, **fields: Any) -> Task:
        _fail_if_asked(self)
        self.created.append({"list_id": list_id, "name": name, "markdown": markdown, **fields})
        return self._add_task(list_id, name, "to do", "open", list(fields.get("tags", [])))


class FakeMailfold:
    """A CardSender keeping orders in memory; `order_card_once` is the real look-up-then-order logic."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.fail_next: Exception | None = None

    def order_card(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
        _fail_if_asked(self)
        order = CardOrder(id=f"ord_{len(self.orders) + 1}", status="queued", reference=reference)
        self.orders.append({"order": order, "recipient": recipient, "message": message})
        return order

    def find_order(self, reference: str) -> CardOrder | None:
        return next((o["order"] for o in self.orders if o["order"].reference == reference), None)

    def order_card_once(self, recipient: PostalAddress, message: str, reference: str) -> CardOrder:
        return order_card_once(self, recipient, message, reference)
