"""Every payload parser, and the webhook handler as a whole, refuse bad input the documented way.

The parsers may raise only InvalidPayload (400 with fields) or HttpProblem (its own status);
anything else would reach Powertools as a 500, which the senders retry for days. The handler
is driven with generated HTTP API v2 events on moto: no input gives a 5xx, and a replayed or
tampered delivery is refused with 401.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from savedesk import forms, intake
from savedesk.models import ClientAccount
from savedesk.webhooks import HttpProblem, Inbound, check_size, parse_json

REFUSALS = (intake.InvalidPayload, HttpProblem)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

# Our field names with anything as values: reaches the model's validators, not just the "expected an object".
ACCOUNT_FIELDS = list(ClientAccount.model_fields)
PROPERTY_MAP = {field: f"hs_{field}" for field in ACCOUNT_FIELDS}
field_values = json_values | st.sampled_from(["", "a@b.example", "12.50", "2024-01-31", "x\r\ny", "USD", "0", "-1"])


def partial_records(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(names), field_values, max_size=len(names)) | st.dictionaries(
        st.text(max_size=12), json_values, max_size=4
    )


def refuses_only_documented(call: Any, *args: Any) -> None:
    # Anything else propagates and fails the test with the input that caused it.
    with contextlib.suppress(*REFUSALS):
        call(*args)


@given(json_values | partial_records(ACCOUNT_FIELDS))
def test_account_from_crm_without_a_property_map(payload: Any) -> None:
    refuses_only_documented(intake.account_from_crm, payload, None)


@given(json_values | partial_records(list(PROPERTY_MAP.values())))
def test_account_from_crm_with_a_property_map(payload: Any) -> None:
    refuses_only_documented(intake.account_from_crm, payload, PROPERTY_MAP)


def test_account_from_crm_names_the_crm_property_that_is_wrong() -> None:
    with pytest.raises(intake.InvalidPayload) as refused:
        intake.account_from_crm({"hs_contact_email": "not an email"}, PROPERTY_MAP)
    assert "hs_contact_email" in [f["field"] for f in refused.value.fields]


SUBMISSION_FIELDS = [
    "type",
    "case_id",
    "reasons",
    "comments",
    "outcome",
    "offer_code",
    "offer_title",
    "mrr_saved",
    "notes",
    "recorded_by",
    "next_meeting_at",
    "approved",
    "decided_by",
]
submission_types = st.sampled_from(["exit_survey", "meeting_outcome", "refund_approval", "other"])


@given(
    json_values
    | partial_records(SUBMISSION_FIELDS)
    | st.builds(lambda t, d: {**d, "type": t}, submission_types, partial_records(SUBMISSION_FIELDS))
)
def test_parse_submission(payload: Any) -> None:
    refuses_only_documented(forms.parse_submission, payload)


TYPEFORM_REFS = ["outcome", "offer", "mrr_saved", "notes", "recorded_by", "next_meeting", "reasons", "comments"]
TYPEFORM_REFS += ["refund_decision", "decided_by"]
ANSWER_TYPES = ["choice", "choices", "text", "number", "email", "date", "boolean", "other"]


@st.composite
def typeform_answers(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(ANSWER_TYPES) | json_values)
    answer: dict[str, Any] = {
        "type": kind,
        "field": draw(st.fixed_dictionaries({"ref": st.sampled_from(TYPEFORM_REFS)}) | json_values),
    }
    if draw(st.booleans()):
        choice = st.fixed_dictionaries({}, optional={"ref": json_values, "label": json_values, "other": json_values})
        choices = st.fixed_dictionaries({}, optional={"refs": json_values, "labels": json_values, "other": json_values})
        answer["choice"] = draw(choice | json_values)
        answer["choices"] = draw(choices | json_values)
    if isinstance(kind, str):
        answer[kind] = draw(json_values)
    return draw(st.just(answer) | json_values)


@st.composite
def typeform_payloads(draw: st.DrawFn) -> Any:
    """Typeform's envelope, well-formed enough to get past the first checks, with junk anywhere inside."""
    response = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "token": json_values,
                "hidden": st.fixed_dictionaries({}, optional={"case_id": st.text(max_size=8) | json_values})
                | json_values,
                "answers": st.lists(typeform_answers(), max_size=5) | json_values,
            },
        )
    )
    return {
        "event_type": "form_response",
        "event_id": draw(st.text(min_size=1, max_size=10)),
        "form_response": response,
    }


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | typeform_payloads())
def test_from_typeform(payload: Any) -> None:
    refuses_only_documented(forms.from_typeform, payload)


def inbound(body: bytes, content_type: str | None) -> Inbound:
    headers = {"content-type": content_type} if content_type is not None else {}
    return Inbound(method="POST", url="https://savedesk.example.com/webhooks/crm", headers=headers, body=body)


content_types = st.none() | st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "", "application/jsonx"]
)


@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()), content_types)
def test_parse_json(body: bytes, content_type: str | None) -> None:
    refuses_only_documented(parse_json, inbound(body, content_type))


@pytest.mark.parametrize("opener", ["[", '{"a":', "[{"])
def test_parse_json_refuses_deep_nesting_as_400(opener: str) -> None:
    body = (opener * 100_000).encode()
    with pytest.raises(HttpProblem) as refused:
        parse_json(inbound(body, "application/json"))
    assert refused.value.status == 400


def test_check_size_refuses_a_large_body_as_413() -> None:
    with pytest.raises(HttpProblem) as refused:
        check_size(inbound(b"x" * (256 * 1024 + 1), "application/json"))
    assert refused.value.status == 413


# -- the whole handler, on moto --------------------------------------------------------------

ROUTES = ["/webhooks/crm/hubspot", "/webhooks/crm", "/webhooks/forms/typeform", "/webhooks/forms"]
BASE_URL = "https://savedesk.example.com"


@pytest.fixture(scope="module")
def ingress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The ingress handler with its AWS (table, secrets, state machine) on moto, in-process."""
    import boto3
    from moto import mock_aws

    from local.stack import DEFAULT_SECRETS
    from local.template import REGION, ROOT, LocalTemplate

    saved = dict(os.environ)
    env = os.environ
    template = LocalTemplate({"PublicBaseUrl": BASE_URL})
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    env.update(template.environment())
    env.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - moto's dummy credentials
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        }
    )
    from savedesk import wiring

    with mock_aws():
        wiring.reset()
        session = boto3.session.Session(region_name=REGION)
        table = template.resources["CasesTable"]["Properties"]
        session.client("dynamodb").create_table(
            TableName=template.physical["CasesTable"],
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
            BillingMode="PAY_PER_REQUEST",
        )
        secrets = session.client("secretsmanager")
        secrets.create_secret(
            Name=template.physical["WebhookSecrets"],
            SecretString=json.dumps(
                {
                    "hubspot_client_secrets": [DEFAULT_SECRETS["HUBSPOT_CLIENT_SECRET"]],
                    "standard_webhook_secrets": [DEFAULT_SECRETS["SAVEDESK_WEBHOOK_SECRET"]],
                    "typeform_secrets": [DEFAULT_SECRETS["TYPEFORM_SECRET"]],
                }
            ),
        )
        role = session.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        _, arn, _ = template.state_machine()
        definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
        session.client("stepfunctions").create_state_machine(
            name=arn.rsplit(":", 1)[-1], definition=definition, roleArn=role
        )
        spec = importlib.util.spec_from_file_location("ingress_app", ROOT / "functions/webhooks/app.py")
        assert spec is not None and spec.loader is not None
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)
        yield app.handler
        wiring.reset()
    env.clear()
    env.update(saved)


class Context:
    function_name = "savedesk-IngressFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:savedesk-IngressFunction"
    aws_request_id = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def http_event(path: str, body: bytes, headers: dict[str, str], *, base64_encoded: bool, method: str = "POST") -> dict:
    from local.api import http_api_event

    text = base64.b64encode(body).decode() if base64_encoded else body.decode("utf-8", errors="replace")
    return http_api_event(method, path, headers, text, base64_encoded=base64_encoded, source_ip="203.0.113.9")


def signed_headers(path: str, body: bytes) -> dict[str, str]:
    from local.client import hubspot_headers, standard_headers
    from local.stack import DEFAULT_SECRETS
    from savedesk.integrations.signatures import sign_typeform

    if path == "/webhooks/crm/hubspot":
        return hubspot_headers(BASE_URL + path, body, secret=DEFAULT_SECRETS["HUBSPOT_CLIENT_SECRET"])
    if path == "/webhooks/forms/typeform":
        signature = sign_typeform(DEFAULT_SECRETS["TYPEFORM_SECRET"], body)
        return {"content-type": "application/json", "typeform-signature": signature}
    return standard_headers(body, secret=DEFAULT_SECRETS["SAVEDESK_WEBHOOK_SECRET"])


def a_valid_cancel() -> dict[str, Any]:
    return {
        "account_id": f"ACME-{uuid.uuid4().hex[:8]}",
        "company": "Acme Dental",
        "contact_name": "Dana Whitfield",
        "contact_email": "dana@acme-dental.example",
        "account_manager_name": "Sam Ortiz",
        "account_manager_email": "sam@topline-agency.example",
        "mrr": "2500.00",
    }


bodies = (
    st.binary(max_size=120)
    | json_values.map(lambda v: json.dumps(v).encode())
    | partial_records(ACCOUNT_FIELDS + SUBMISSION_FIELDS).map(lambda v: json.dumps(v).encode())
    | typeform_payloads().map(lambda v: json.dumps(v).encode())
)
header_noise = st.dictionaries(
    st.sampled_from(
        ["content-type", "webhook-id", "webhook-timestamp", "webhook-signature", "typeform-signature"]
        + ["x-hubspot-signature-v3", "x-hubspot-request-timestamp", "x-other"]
    ),
    st.text(max_size=40),
    max_size=4,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(ROUTES + ["/webhooks/unknown", "/"]),
    body=bodies,
    sign=st.booleans(),
    noise=header_noise,
    base64_encoded=st.booleans(),
)
def test_no_input_gives_a_5xx(
    ingress: Any, path: str, body: bytes, sign: bool, noise: dict[str, str], base64_encoded: bool
) -> None:
    headers = {**noise, **signed_headers(path, body)} if sign else noise
    response = ingress(http_event(path, body, headers, base64_encoded=base64_encoded), Context())
    assert response["statusCode"] < 500, response
    assert response["statusCode"] not in (404, 410), response
    assert set(json.loads(response["body"])) >= {"error", "detail"} or response["statusCode"] < 300, response


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255), path=st.sampled_from(ROUTES))
def test_a_tampered_body_is_refused_with_401(ingress: Any, position: int, flip: int, path: str) -> None:
    body = json.dumps(a_valid_cancel()).encode()
    headers = signed_headers(path, body)
    tampered = bytearray(body)
    tampered[position % len(tampered)] ^= flip
    response = ingress(http_event(path, bytes(tampered), headers, base64_encoded=True), Context())
    assert response["statusCode"] == 401, response


@pytest.mark.parametrize("path", ["/webhooks/crm/hubspot", "/webhooks/crm", "/webhooks/forms"])
def test_a_replayed_delivery_outside_the_window_is_refused_with_401(ingress: Any, path: str) -> None:
    from local.client import hubspot_headers, standard_headers
    from local.stack import DEFAULT_SECRETS

    body = json.dumps(a_valid_cancel()).encode()
    ten_minutes_ago = time.time() - 600
    if path == "/webhooks/crm/hubspot":
        headers = hubspot_headers(
            BASE_URL + path,
            body,
            secret=DEFAULT_SECRETS["HUBSPOT_CLIENT_SECRET"],
            timestamp_ms=int(ten_minutes_ago * 1000),
        )
    else:
        headers = standard_headers(
            body, secret=DEFAULT_SECRETS["SAVEDESK_WEBHOOK_SECRET"], timestamp=int(ten_minutes_ago)
        )
    response = ingress(http_event(path, body, headers, base64_encoded=False), Context())
    assert response["statusCode"] == 401, response


def test_a_valid_signed_cancel_opens_a_case_and_its_redelivery_is_a_duplicate(ingress: Any) -> None:
    # The control for the properties above: the same event shape, correctly signed, is accepted.
    body = json.dumps(a_valid_cancel()).encode()
    headers = signed_headers("/webhooks/crm", body)
    first = ingress(http_event("/webhooks/crm", body, headers, base64_encoded=False), Context())
    again = ingress(http_event("/webhooks/crm", body, headers, base64_encoded=True), Context())
    assert first["statusCode"] == 202, first
    assert again["statusCode"] == 200 and json.loads(again["body"])["duplicate"], again


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40), path=st.sampled_from(ROUTES))
def test_a_body_flagged_base64_that_is_not_is_a_4xx(ingress: Any, text: str, path: str) -> None:
    event = http_event(path, b"", {"content-type": "application/json"}, base64_encoded=True)
    event["body"] = text
    response = ingress(event, Context())
    assert 400 <= response["statusCode"] < 500, response


def test_invalid_base64_is_refused_as_400(ingress: Any) -> None:
    event = http_event("/webhooks/crm", b"", {"content-type": "application/json"}, base64_encoded=True)
    event["body"] = "not base64!"
    response = ingress(event, Context())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "malformed_body"
