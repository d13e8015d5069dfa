"""SlackClient against canned transports: error mapping, request shape, mrkdwn escaping, Block Kit builders."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations import slack
from savedesk.integrations.slack import PostedMessage, SlackClient, escape_mrkdwn

BASE = "https://slack.test/api"
OK_POST = {"ok": True, "channel": "C0ACME0001", "ts": "1700000000.000100", "message": {"type": "message"}}

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, budget: float | None = None) -> tuple[SlackClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    client = SlackClient(BASE, "xoxb-test", http=http, budget_seconds=(lambda: budget) if budget is not None else None)
    return client, seen


def test_post_message_sends_json_with_bearer_and_charset() -> None:
    client, seen = make_client(lambda r: httpx.Response(200, json=OK_POST))
    blocks = [slack.section("*hello*")]

    posted = client.post_message("C0ACME0001", "hello", blocks=blocks, thread_ts="1700000000.000001")

    assert posted == PostedMessage(channel="C0ACME0001", ts="1700000000.000100")
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/chat.postMessage"
    assert request.headers["Authorization"] == "Bearer xoxb-test"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.content) == {
        "channel": "C0ACME0001",
        "text": "hello",
        "blocks": blocks,
        "thread_ts": "1700000000.000001",
    }


def test_post_message_leaves_out_empty_blocks_and_thread() -> None:
    client, seen = make_client(lambda r: httpx.Response(200, json=OK_POST))
    client.post_message("C0ACME0001", "hello")
    assert json.loads(seen[0].content) == {"channel": "C0ACME0001", "text": "hello"}


def test_posting_to_a_user_returns_the_dm_channel() -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json={**OK_POST, "channel": "D0AM00001"}))
    assert client.post_message("U0AM00001", "hi").channel == "D0AM00001"


@pytest.mark.parametrize(
    "code", ["ratelimited", "rate_limited", "internal_error", "fatal_error", "request_timeout", "service_unavailable"]
)
def test_slack_side_trouble_is_transient(code: str) -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json={"ok": False, "error": code}))
    with pytest.raises(TransientError, match=f"slack: {code}"):
        client.post_message("C0ACME0001", "hi")


@pytest.mark.parametrize(
    "code",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "no_text",
        "invalid_blocks",
        "msg_too_long",
        "missing_scope",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "account_inactive",
        "something_new",
    ],
)
def test_other_codes_are_permanent_vendor_errors(code: str) -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json={"ok": False, "error": code}))
    with pytest.raises(VendorError, match=f"^slack: {code}$") as caught:
        client.post_message("C0ACME0001", "hi")
    assert isinstance(caught.value, PermanentError)


def test_429_with_retry_after_then_success_posts_once() -> None:
    responses = iter(
        [
            httpx.Response(429, headers={"Retry-After": "0"}, json={"ok": False, "error": "ratelimited"}),
            httpx.Response(200, json=OK_POST),
        ]
    )
    client, seen = make_client(lambda r: next(responses))

    posted = client.post_message("C0ACME0001", "hi")

    assert posted.ts == OK_POST["ts"]
    assert len(seen) == 2  # the throttled attempt and the one that landed: one message


def test_429_longer_than_the_budget_goes_back_to_the_workflow() -> None:
    client, seen = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "30"}), budget=5)
    with pytest.raises(TransientError) as caught:
        client.post_message("C0ACME0001", "hi")
    assert caught.value.retry_after == 30
    assert len(seen) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(status: int) -> None:
    client, _ = make_client(lambda r: httpx.Response(status, text="upstream trouble"))
    with pytest.raises(TransientError):
        client.post_message("C0ACME0001", "hi")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"channel": "C0ACME0001"}),  # no `ok`
        httpx.Response(200, json={"ok": True}),  # no channel/ts
    ],
)
def test_malformed_responses_are_transient(response: httpx.Response) -> None:
    client, _ = make_client(lambda r: response)
    with pytest.raises(TransientError, match="malformed"):
        client.post_message("C0ACME0001", "hi")


def test_timeout_is_transient() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make_client(time_out)
    with pytest.raises(TransientError, match="timed out"):
        client.post_message("C0ACME0001", "hi")


def test_unexpected_4xx_status_is_permanent() -> None:
    client, _ = make_client(lambda r: httpx.Response(404, text="not found"))
    with pytest.raises(VendorError, match="HTTP 404"):
        client.post_message("C0ACME0001", "hi")


def test_channel_info_returns_the_channel() -> None:
    channel = {"id": "C0ACME0001", "name": "client-acme-dental", "is_archived": False}
    client, seen = make_client(lambda r: httpx.Response(200, json={"ok": True, "channel": channel}))
    assert client.channel_info("C0ACME0001") == channel
    assert str(seen[0].url) == f"{BASE}/conversations.info"


def test_channel_info_maps_errors() -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json={"ok": False, "error": "channel_not_found"}))
    with pytest.raises(VendorError, match="slack: channel_not_found"):
        client.channel_info("C0NOPE")


# -- mrkdwn escaping ----------------------------------------------------------------------


def test_escape_mrkdwn_neutralises_control_sequences() -> None:
    assert escape_mrkdwn("<!channel> hi") == "&lt;!channel&gt; hi"
    assert escape_mrkdwn("<@U0JOEY0001>") == "&lt;@U0JOEY0001&gt;"
    assert escape_mrkdwn("<https://evil.example|your invoice>") == "&lt;https://evil.example|your invoice&gt;"
    assert escape_mrkdwn("Smith & Sons") == "Smith &amp; Sons"
    assert escape_mrkdwn("&lt;") == "&amp;lt;"  # already-escaped text stays literal


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@given(st.text())
def test_escaped_text_has_no_raw_angle_brackets(text: str) -> None:
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert _unescape(escaped) == text  # nothing lost: Slack shows the client's words as typed


@given(st.text())
def test_every_ampersand_in_escaped_text_starts_an_entity(text: str) -> None:
    escaped = escape_mrkdwn(text)
    rest = escaped
    while "&" in rest:
        rest = rest[rest.index("&") :]
        assert rest.startswith(("&amp;", "&lt;", "&gt;"))
        rest = rest[1:]


# -- Block Kit builders -------------------------------------------------------------------


def test_header_is_plain_text_and_clipped_to_slacks_limit() -> None:
    block = slack.header("Cancellation: " + "A" * 300)
    assert block["type"] == "header"
    assert block["text"]["type"] == "plain_text"
    assert len(block["text"]["text"]) == slack.HEADER_MAX_CHARS
    assert block["text"]["text"].endswith("…")


def test_section_keeps_caller_mrkdwn_and_accessory() -> None:
    btn = slack.button("Open", action_id="open", url="https://example.test")
    block = slack.section("*MRR:* $4,000", accessory=btn)
    assert block == {"type": "section", "text": {"type": "mrkdwn", "text": "*MRR:* $4,000"}, "accessory": btn}


def test_fields_escapes_labels_and_values() -> None:
    block = slack.fields({"Reason": "<!channel> too expensive", "MRR": "$4,000"})
    texts = [f["text"] for f in block["fields"]]
    assert texts == ["*Reason*\n&lt;!channel&gt; too expensive", "*MRR*\n$4,000"]
    assert all(f["type"] == "mrkdwn" for f in block["fields"])


def test_fields_keeps_at_most_ten() -> None:
    block = slack.fields({f"k{i}": str(i) for i in range(15)})
    assert len(block["fields"]) == slack.MAX_FIELDS


def test_context_divider_button_actions() -> None:
    assert slack.context("case `c-1`", "ACME-001") == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "case `c-1`"}, {"type": "mrkdwn", "text": "ACME-001"}],
    }
    assert slack.divider() == {"type": "divider"}
    btn = slack.button("Record outcome", action_id="outcome", url="https://forms.test/x", style="primary", value="c-1")
    assert btn == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Record outcome", "emoji": True},
        "action_id": "outcome",
        "url": "https://forms.test/x",
        "value": "c-1",
        "style": "primary",
    }
    assert slack.actions(btn) == {"type": "actions", "elements": [btn]}


def test_empty_texts_become_a_space_because_slack_refuses_empty_text() -> None:
    assert slack.section("")["text"]["text"] == " "
    assert slack.header("")["text"]["text"] == " "
