"""The billing branch of the offboarding: CompleteBillingRequest, FollowUpOutstandingPayments, ProcessRefund.

Steps run through the real runner and the real CaseStore (on moto); Stripe is a fake that keeps
idempotency keys, and, at the end, the Stripe stand-in behind the real BillingClient.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from local.sandbox import stripe as stripe_standin
from local.sandbox.app import serve
from savedesk.errors import MissingClientData, PermanentError, TransientError
from savedesk.integrations.billing import BillingClient
from savedesk.steps import complete_billing_request, follow_up_outstanding_payments, process_refund
from savedesk.steps.common import today
from savedesk.store import CaseStore
from tests.unit.step_fakes import (
    CASE_ID,
    Deps,
    FakeBilling,
    FakeMailer,
    FakeSlack,
    contract_review,
    demo_case,
    details,
    open_case,
    run,
)

BILL = "CompleteBillingRequest"
FOLLOW_UP = "FollowUpOutstandingPayments"
REFUND = "ProcessRefund"


@pytest.fixture
def billing() -> FakeBilling:
    fake = FakeBilling()
    fake.add_subscription("sub_AcmeRetainer01", period_end=date(2099, 1, 1))
    return fake


def refund_review(amount: str) -> dict[str, object]:
    return contract_review(
        refund_eligible=True,
        refund_amount=amount,
        refund_reason=f"Refund of ${amount} for the prepaid time after billing ends.",
    )


# --------------------------------------------------------------------------- CompleteBillingRequest


def test_billing_stops_at_the_effective_end_date_once(store: CaseStore, billing: FakeBilling) -> None:
    # Given a client leaving for price and results, whose contract ends on 31 Jan 2099
    open_case(store, demo_case(review=contract_review(effective_end_date="2099-01-31")))
    deps = Deps(billing=billing)

    # When the step runs, and runs again (a Lambda retry, a redrive)
    first = run(BILL, complete_billing_request.run, store, deps)
    again = run(BILL, complete_billing_request.run, store, deps)

    # Then Stripe was asked once, to end the subscription on that day, with a key and the reasons
    (call,) = billing.calls_to("stop_billing")
    assert call["subscription_id"] == "sub_AcmeRetainer01"
    assert call["at"] == date(2099, 1, 31)
    assert call["idempotency_key"] == f"{CASE_ID}:CompleteBillingRequest:sub_AcmeRetainer01"
    assert call["feedback"] == "too_expensive"
    assert "Too expensive" in call["comment"] and "Not seeing results" in call["comment"]
    assert again["replayed"] is True and first["replayed"] is False
    # And the details ConfirmClosure reads say when billing stops
    assert details(store, BILL) == {
        "billing_stops_after": "2099-01-31",
        "subscriptions": [{"id": "sub_AcmeRetainer01", "cancel_at": "2099-01-31"}],
    }


def test_without_a_contract_review_billing_stops_at_the_period_end(store: CaseStore, billing: FakeBilling) -> None:
    # Given a case whose review has no effective end date on file
    open_case(store, demo_case(review={}))

    # When the step runs
    run(BILL, complete_billing_request.run, store, Deps(billing=billing))

    # Then the subscription ends with its current period, and that is the date recorded
    (call,) = billing.calls_to("stop_billing")
    assert call["at"] is None
    assert details(store, BILL)["billing_stops_after"] == "2099-01-01"


def test_an_effective_end_date_in_the_past_stops_billing_today(store: CaseStore, billing: FakeBilling) -> None:
    # Given a late run: the effective end date has already passed
    open_case(store, demo_case(review=contract_review(effective_end_date="2020-01-31")))

    # When the step runs
    run(BILL, complete_billing_request.run, store, Deps(billing=billing))

    # Then billing stops today (Stripe refuses a cancel date in the past)
    assert billing.calls_to("stop_billing")[0]["at"] == today()


def test_no_active_subscription_is_not_an_error(store: CaseStore) -> None:
    # Given a customer whose only subscription is already canceled
    billing = FakeBilling()
    billing.add_subscription("sub_old", period_end=date(2026, 1, 1), status="canceled")
    open_case(store, demo_case())

    # When the step runs
    result = run(BILL, complete_billing_request.run, store, Deps(billing=billing))

    # Then nothing is sent to Stripe and the summary says billing had already stopped
    assert billing.calls_to("stop_billing") == []
    assert "already stopped" in result["summary"]
    assert details(store, BILL)["subscriptions"] == []


def test_billing_needs_the_billing_customer(store: CaseStore, billing: FakeBilling) -> None:
    # Given a client with no Stripe customer id in the CRM
    open_case(store, demo_case(billing_customer_id=None))

    # When the step runs, Then it fails naming the CRM field and how to recover
    with pytest.raises(MissingClientData, match=r"billing_customer_id.*re-run this step"):
        run(BILL, complete_billing_request.run, store, Deps(billing=billing))
    assert billing.calls == []


@pytest.mark.parametrize(
    ("codes", "feedback"),
    [
        (["price"], "too_expensive"),
        (["results"], "low_quality"),
        (["service"], "customer_service"),
        (["switched_agency"], "switched_service"),
        (["in_house", "budget_cut", "business_change", "other"], "other"),
        (["budget_cut", "service"], "customer_service"),  # the specific reason wins over "other"
        ([], None),
    ],
)
def test_reason_codes_map_to_stripe_feedback(codes: list[str], feedback: str | None) -> None:
    assert complete_billing_request.stripe_feedback(codes) == feedback


# --------------------------------------------------------------------------- FollowUpOutstandingPayments


def test_open_invoices_get_one_reminder(store: CaseStore) -> None:
    # Given two open invoices (Stripe amounts in cents)
    billing = FakeBilling()
    billing.add_invoice("in_1", 120000)
    billing.add_invoice("in_2", 5050, due=None)
    mailer = FakeMailer()
    open_case(store, demo_case())
    deps = Deps(billing=billing, mailer=mailer)

    # When the step runs twice
    run(FOLLOW_UP, follow_up_outstanding_payments.run, store, deps)
    run(FOLLOW_UP, follow_up_outstanding_payments.run, store, deps)

    # Then the client got one reminder, replying to their account manager, listing both invoices
    (sent,) = mailer.sent
    assert sent["to"] == ["dana@acme-dental.example"]
    assert sent["reply_to"] == "priya@topline-agency.example"
    assert sent["rendered"].template == "payment_reminder"
    assert "ACME-0001" in sent["rendered"].text and "ACME-0002" in sent["rendered"].text
    assert "1,250.50" in sent["rendered"].text
    # And the details carry the total in major units
    recorded = details(store, FOLLOW_UP)
    assert recorded["open_invoices"] == 2
    assert Decimal(recorded["amount_due"]) == Decimal("1250.50")
    assert recorded["currency"] == "USD"
    assert recorded["ses_message_id"] == "ses-1"


def test_no_open_invoice_sends_nothing(store: CaseStore) -> None:
    # Given a customer who owes nothing
    mailer = FakeMailer()
    open_case(store, demo_case())

    # When the step runs
    result = run(FOLLOW_UP, follow_up_outstanding_payments.run, store, Deps(billing=FakeBilling(), mailer=mailer))

    # Then no email goes out
    assert mailer.sent == []
    assert result["summary"] == "No outstanding payments"
    assert details(store, FOLLOW_UP) == {"open_invoices": 0, "amount_due": "0.00", "currency": "USD"}


def test_follow_up_needs_the_billing_customer(store: CaseStore) -> None:
    open_case(store, demo_case(billing_customer_id=None))
    with pytest.raises(MissingClientData, match="billing_customer_id"):
        run(FOLLOW_UP, follow_up_outstanding_payments.run, store, Deps(billing=FakeBilling(), mailer=FakeMailer()))


# --------------------------------------------------------------------------- ProcessRefund


def test_no_refund_due_completes_without_stripe(store: CaseStore) -> None:
    # Given a review that found no refund due
    billing = FakeBilling()
    open_case(store, demo_case())

    # When the step runs
    result = run(REFUND, process_refund.run, store, Deps(billing=billing, slack=FakeSlack()))

    # Then nothing is refunded and the workflow goes on
    assert result["status"] == "none"
    assert billing.calls == []
    recorded = details(store, REFUND)
    assert recorded["refund_amount"] is None
    assert recorded["status"] == "none"
    assert recorded["reason"].startswith("No refund")


def test_a_large_refund_waits_for_approval_and_asks_once(store: CaseStore) -> None:
    # Given a refund of 2,500.00, over the 2,000.00 that needs no approval
    billing, slack = FakeBilling(), FakeSlack()
    billing.add_payment("pi_1", 400000, date(2026, 11, 1))
    open_case(store, demo_case(review=refund_review("2500.00")))
    deps = Deps(billing=billing, slack=slack)

    # When the step runs (and runs again before anyone decided)
    first = run(REFUND, process_refund.run, store, deps)
    second = run(REFUND, process_refund.run, store, deps)

    # Then the workflow is told to wait a week for the decision, and nothing is refunded
    for output in (first, second):
        assert output["status"] == "awaiting_approval"
        assert output["approval_timeout_seconds"] == 604800
    assert billing.calls_to("refund") == []
    # And ops were asked once, in their channel, with the case id for the approval form
    (post,) = slack.posts
    assert post["channel"] == "C0OPS00001"
    assert CASE_ID in str(post["blocks"]) and "refund approval form" in str(post["blocks"])
    # And the step is not complete, so the workflow can run it again after the decision
    assert store.get_step(CASE_ID, REFUND)["status"] == "STARTED"  # type: ignore[index]


def test_an_approved_refund_is_issued_after_the_wait(store: CaseStore) -> None:
    # Given a large refund that waited, then was approved on the form
    billing, slack = FakeBilling(), FakeSlack()
    billing.add_payment("pi_1", 400000, date(2026, 11, 1))
    open_case(store, demo_case(review=refund_review("2500.00")))
    deps = Deps(billing=billing, slack=slack)
    run(REFUND, process_refund.run, store, deps)
    store.update_case(CASE_ID, lambda c: c.model_copy(update={"refund_decision": {"approved": True}}))

    # When the workflow runs the step again
    result = run(REFUND, process_refund.run, store, deps)

    # Then the refund is made, and ops were not asked a second time
    assert result["status"] == "refunded"
    (call,) = billing.calls_to("refund")
    assert call["amount_cents"] == 250000
    assert len(slack.posts) == 1


def test_a_rejected_refund_completes_without_refunding(store: CaseStore) -> None:
    # Given a large refund rejected on the approval form
    billing = FakeBilling()
    billing.add_payment("pi_1", 400000, date(2026, 11, 1))
    case = demo_case(review=refund_review("2500.00")).model_copy(
        update={"refund_decision": {"approved": False, "decided_by": "joey@topline-agency.example"}}
    )
    open_case(store, case)

    # When the step runs
    result = run(REFUND, process_refund.run, store, Deps(billing=billing, slack=FakeSlack()))

    # Then nothing is refunded, and the record says it was rejected
    assert result["status"] == "rejected"
    assert billing.calls_to("refund") == []
    recorded = details(store, REFUND)
    assert recorded["status"] == "rejected"
    assert recorded["refund_amount"] is None
    assert recorded["proposed_amount"] == "2500.00"


def test_a_refund_spans_the_newest_payments_once(store: CaseStore) -> None:
    # Given 1,500.00 to refund and two payments: 1,000.00 last week, 4,000.00 last month
    billing = FakeBilling()
    billing.add_payment("pi_old", 400000, date(2026, 10, 1))
    billing.add_payment("pi_new", 100000, date(2026, 11, 1))
    open_case(store, demo_case(review=refund_review("1500.00")))
    deps = Deps(billing=billing, slack=FakeSlack())

    # When the step runs twice
    result = run(REFUND, process_refund.run, store, deps)
    run(REFUND, process_refund.run, store, deps)

    # Then the newest payment is refunded in full and the rest comes from the older one, once each
    calls = billing.calls_to("refund")
    assert [(c["payment_intent"], c["amount_cents"]) for c in calls] == [("pi_new", 100000), ("pi_old", 50000)]
    assert [c["idempotency_key"] for c in calls] == [
        f"{CASE_ID}:ProcessRefund:pi_new",
        f"{CASE_ID}:ProcessRefund:pi_old",
    ]
    assert all(c["metadata"] == {"case_id": CASE_ID} for c in calls)
    assert result["status"] == "refunded"
    recorded = details(store, REFUND)
    assert recorded["refund_amount"] == "1500.00"
    assert recorded["currency"] == "USD"
    assert [(r["id"], r["amount"]) for r in recorded["refunds"]] == [("re_0001", "1000.00"), ("re_0002", "500.00")]


def test_a_retry_after_the_key_expired_does_not_refund_twice(store: CaseStore) -> None:
    # Given a run that refunded the newest payment, then died before it recorded the result
    billing = FakeBilling()
    billing.add_payment("pi_old", 400000, date(2026, 10, 1))
    billing.add_payment("pi_new", 100000, date(2026, 11, 1))
    open_case(store, demo_case(review=refund_review("1500.00")))
    deps = Deps(billing=billing, slack=FakeSlack())
    billing.crash_after_refund = TransientError("stripe: network error: read timeout")
    with pytest.raises(TransientError):
        run(REFUND, process_refund.run, store, deps)
    # And ops redrive a day later, when Stripe has forgotten the idempotency key
    billing.expire_idempotency_keys()

    # When the step runs again
    run(REFUND, process_refund.run, store, deps)

    # Then the refunded payment is recognised by the case id on its refund and skipped
    assert [(r.payment_intent, r.amount) for r in billing.refunds] == [("pi_new", 100000), ("pi_old", 50000)]
    assert sum(r.amount for r in billing.refunds) == 150000
    assert [r["amount"] for r in details(store, REFUND)["refunds"]] == ["1000.00", "500.00"]


def test_a_forced_rerun_reconciles_with_stripe(store: CaseStore) -> None:
    # Given a refund made in full from one payment, and keys long expired
    billing = FakeBilling()
    billing.add_payment("pi_1", 100000, date(2026, 11, 1))
    billing.add_payment("pi_0", 400000, date(2026, 10, 1))
    open_case(store, demo_case(review=refund_review("1000.00")))
    deps = Deps(billing=billing, slack=FakeSlack())
    run(REFUND, process_refund.run, store, deps)
    billing.expire_idempotency_keys()

    # When ops force a re-run of the step (which ignores recorded effects)
    run(REFUND, process_refund.run, store, deps, rerun=["ProcessRefund"], force=True)

    # Then Stripe's own record of the case's refund stops a second one (pi_1 is no longer refundable)
    assert len(billing.refunds) == 1
    assert details(store, REFUND)["refunds"][0]["id"] == "re_0001"


def test_not_enough_refundable_fails_before_refunding_anything(store: CaseStore) -> None:
    # Given 1,500.00 due but only 1,000.00 of payments left to refund
    billing = FakeBilling()
    billing.add_payment("pi_1", 100000, date(2026, 11, 1))
    open_case(store, demo_case(review=refund_review("1500.00")))

    # When the step runs, Then it fails permanently with amounts in the message, having refunded nothing
    with pytest.raises(PermanentError, match=r"\$1,500.00 is more than .*\$1,000.00"):
        run(REFUND, process_refund.run, store, Deps(billing=billing, slack=FakeSlack()))
    assert billing.refunds == []


def test_a_refund_needs_the_billing_customer(store: CaseStore) -> None:
    open_case(store, demo_case(review=refund_review("500.00"), billing_customer_id=None))
    with pytest.raises(MissingClientData, match=r"billing_customer_id.*re-run this step"):
        run(REFUND, process_refund.run, store, Deps(billing=FakeBilling(), slack=FakeSlack()))


# --------------------------------------------------------------------------- against the Stripe stand-in


def test_billing_branch_against_the_stripe_standin(store: CaseStore) -> None:
    with serve() as (base_url, app):
        # Given the demo client in the Stripe stand-in, ending 40 days from now, due a 1,000.00 refund
        stripe = BillingClient(stripe_standin.API_KEY, f"{base_url}/stripe", timeout=5)
        end = today() + timedelta(days=40)
        review = refund_review("1000.00") | {"effective_end_date": end.isoformat()}
        open_case(store, demo_case(review=review))
        mailer = FakeMailer()
        deps = Deps(billing=stripe, mailer=mailer, slack=FakeSlack())

        # When the billing branch runs
        run(BILL, complete_billing_request.run, store, deps)
        run(FOLLOW_UP, follow_up_outstanding_payments.run, store, deps)
        refunded = run(REFUND, process_refund.run, store, deps)

        # Then the subscription ends on the effective end date
        subscription = stripe.subscription(stripe_standin.SUBSCRIPTION_ID)
        assert subscription.cancel_at == end
        assert details(store, BILL)["subscriptions"] == [{"id": "sub_AcmeRetainer01", "cancel_at": end.isoformat()}]
        # And the open invoice (120000 cents) was followed up in dollars
        assert details(store, FOLLOW_UP)["amount_due"] == "1200.00"
        assert len(mailer.sent) == 1
        # And 1,000.00 went back on the paid invoice's payment, with the idempotency key on the wire
        assert refunded["status"] == "refunded"
        state = app.extensions["vendors"]["stripe"]
        (refund,) = state.refunds.values()
        assert (refund["payment_intent"], refund["amount"]) == ("pi_AcmePaid01", 100000)
        (create,) = app.extensions["calls"].of("stripe", "/v1/refunds", method="POST")
        assert create["headers"]["Idempotency-Key"] == f"{CASE_ID}:ProcessRefund:pi_AcmePaid01"

        # When, past Stripe's 24 hours, ops force the refund step again
        state.idempotency.clear()
        run(REFUND, process_refund.run, store, deps, rerun=["ProcessRefund"], force=True)

        # Then the stand-in still holds one refund
        assert len(state.refunds) == 1
