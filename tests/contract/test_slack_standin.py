"""The Slack stand-in against Slack's documented wire format, and the real SlackClient against the stand-in."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from flask import Flask

from local.sandbox.app import Fault
from local.sandbox.slack import SEED_TOKEN, SlackState
from savedesk.errors import TransientError, VendorError
from savedesk.integrations import slack
from savedesk.integrations.slack import SlackClient

TS_FORMAT = re.compile(r"^\d{10}\.\d{6}$")
JSON_UTF8 = "application/json; charset=utf-8"


@pytest.fixture
def slack_api(sandbox_server: tuple[str, Flask]) -> str:
    base_url, _ = sandbox_server
    return f"{base_url}/slack/api"


@pytest.fixture
def slack_state(sandbox_server: tuple[str, Flask]) -> SlackState:
    return sandbox_server[1].extensions["vendors"]["slack"]


@pytest.fixture
def client(slack_api: str) -> SlackClient:
    return SlackClient(slack_api, SEED_TOKEN)


def raw_post(url: str, body: dict[str, Any], token: str | None = SEED_TOKEN, content_type: str = JSON_UTF8) -> dict:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(url, content=json.dumps(body).encode(), headers=headers)
    # Slack reports logical errors with HTTP 200.
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def assert_error_shape(body: dict, code: str) -> None:
    assert body["ok"] is False
    assert body["error"] == code
    assert set(body) <= {"ok", "error", "warning", "response_metadata"}


# -- documented response shapes -----------------------------------------------------------


def test_post_message_response_has_the_documented_keys(slack_api: str) -> None:
    body = raw_post(f"{slack_api}/chat.postMessage", {"channel": "C0ACME0001", "text": "hello"})

    assert body["ok"] is True
    assert body["channel"] == "C0ACME0001"
    assert TS_FORMAT.match(body["ts"])
    message = body["message"]
    assert message["type"] == "message"
    assert message["ts"] == body["ts"]
    assert message["text"] == "hello"
    assert message["bot_id"]
    assert "warning" not in body


def test_timestamps_are_unique_and_increasing(client: SlackClient) -> None:
    stamps = [client.post_message("C0ACME0001", f"m{i}").ts for i in range(5)]
    assert all(TS_FORMAT.match(ts) for ts in stamps)
    assert stamps == sorted(set(stamps), key=float)


def test_missing_charset_is_a_warning_not_an_error(slack_api: str) -> None:
    body = raw_post(
        f"{slack_api}/chat.postMessage", {"channel": "C0ACME0001", "text": "hi"}, content_type="application/json"
    )
    assert body["ok"] is True
    assert body["warning"] == "missing_charset"
    assert body["response_metadata"]["warnings"] == ["missing_charset"]


def test_form_encoded_post_with_blocks_as_json_string_and_token_param(slack_api: str, slack_state: SlackState) -> None:
    blocks = [slack.section("*from a form*")]
    response = httpx.post(
        f"{slack_api}/chat.postMessage",
        data={"token": SEED_TOKEN, "channel": "C0OPS00001", "text": "fallback", "blocks": json.dumps(blocks)},
    )
    body = response.json()
    assert body["ok"] is True
    assert slack_state.messages("C0OPS00001")[0]["blocks"] == blocks


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authed"),
        ({"Authorization": "Bearer xoxb-wrong"}, "invalid_auth"),
        ({"Authorization": "Basic eG94Yjp4"}, "not_authed"),
    ],
)
def test_auth_failures_have_the_documented_shape(slack_api: str, headers: dict[str, str], code: str) -> None:
    response = httpx.post(
        f"{slack_api}/chat.postMessage",
        content=json.dumps({"channel": "C0ACME0001", "text": "hi"}).encode(),
        headers={"Content-Type": JSON_UTF8, **headers},
    )
    assert response.status_code == 200
    assert_error_shape(response.json(), code)


def test_json_body_token_is_not_accepted_without_the_header(slack_api: str) -> None:
    body = raw_post(
        f"{slack_api}/chat.postMessage", {"token": SEED_TOKEN, "channel": "C0ACME0001", "text": "hi"}, token=None
    )
    assert_error_shape(body, "not_authed")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"channel": "C0NOPE0000", "text": "hi"}, "channel_not_found"),
        ({"text": "hi"}, "channel_not_found"),
        ({"channel": "C0ACME0001"}, "no_text"),
        ({"channel": "C0ACME0001", "text": ""}, "no_text"),
        ({"channel": "C0ACME0001", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C0ACME0001", "text": "x", "blocks": [{"type": "nonsense"}]}, "invalid_blocks"),
        ({"channel": "C0ACME0001", "text": "x", "blocks": []}, "invalid_blocks"),
        (
            {
                "channel": "C0ACME0001",
                "text": "x",
                "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
            },
            "invalid_blocks",
        ),
        (
            {
                "channel": "C0ACME0001",
                "text": "x",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}],
            },
            "invalid_blocks",
        ),
    ],
)
def test_post_message_errors(slack_api: str, slack_state: SlackState, payload: dict, code: str) -> None:
    body = raw_post(f"{slack_api}/chat.postMessage", payload)
    assert_error_shape(body, code)
    assert slack_state.messages("C0ACME0001") == []


def test_blocks_alone_are_enough(slack_api: str) -> None:
    body = raw_post(f"{slack_api}/chat.postMessage", {"channel": "C0ACME0001", "blocks": [slack.divider()]})
    assert body["ok"] is True


def test_unknown_method(slack_api: str) -> None:
    assert_error_shape(raw_post(f"{slack_api}/chat.nope", {}), "unknown_method")


# -- the client against the stand-in ------------------------------------------------------


def test_client_posts_a_composed_brief(client: SlackClient, slack_state: SlackState) -> None:
    client_typed = "<!channel> we are leaving & taking our budget"
    blocks = [
        slack.header("Save meeting: Acme Dental Group"),
        slack.section(f"*Reason given:* {slack.escape_mrkdwn(client_typed)}"),
        slack.fields({"MRR": "$4,000.00", "Minimum term ends": "2026-12-31", "Notice": "30 days"}),
        slack.divider(),
        slack.actions(
            slack.button("Record outcome", action_id="record_outcome", url="https://forms.test/o", style="primary")
        ),
        slack.context("case `case-123`"),
    ]

    posted = client.post_message("U0AM00001", "Save meeting brief: Acme Dental Group", blocks=blocks)

    assert posted.channel.startswith("D")  # posting to a user opens the DM, as Slack does
    assert TS_FORMAT.match(posted.ts)
    (stored,) = slack_state.messages("U0AM00001")
    assert stored["ts"] == posted.ts
    assert stored["blocks"] == blocks
    assert "<!channel>" not in json.dumps(stored["blocks"])
    assert slack_state.messages(posted.channel) == [stored]


def test_thread_reply_is_stored_under_its_parent(client: SlackClient, slack_state: SlackState) -> None:
    parent = client.post_message("C0ACME0001", "Cancellation notes")
    reply = client.post_message("C0ACME0001", "Reason: budget", thread_ts=parent.ts)

    messages = slack_state.messages("C0ACME0001")
    assert [m["ts"] for m in messages] == [parent.ts, reply.ts]
    assert messages[1]["thread_ts"] == parent.ts
    assert messages[0]["reply_count"] == 1


def test_channel_name_is_accepted(client: SlackClient) -> None:
    assert client.post_message("#client-acme-dental", "hi").channel == "C0ACME0001"


def test_client_maps_channel_errors(client: SlackClient, slack_state: SlackState) -> None:
    slack_state.add_channel("C0OUTSIDE1", "not-joined", is_member=False)
    slack_state.add_channel("C0OLD00001", "old-client", is_archived=True)
    slack_state.add_channel("G0SECRET01", "secret", is_member=False, is_private=True)

    for channel, code in [
        ("C0NOPE0000", "channel_not_found"),
        ("C0OUTSIDE1", "not_in_channel"),
        ("C0OLD00001", "is_archived"),
        ("G0SECRET01", "channel_not_found"),
    ]:
        with pytest.raises(VendorError, match=f"slack: {code}"):
            client.post_message(channel, "hi")


def test_client_maps_auth_errors(slack_api: str) -> None:
    with pytest.raises(VendorError, match="slack: invalid_auth"):
        SlackClient(slack_api, "xoxb-revoked").post_message("C0ACME0001", "hi")


def test_client_sends_no_charset_warning(client: SlackClient, sandbox_server: tuple[str, Flask]) -> None:
    client.post_message("C0ACME0001", "hi")
    (call,) = sandbox_server[1].extensions["calls"].of("slack", "chat.postMessage")
    assert "warning" not in call["response"]
    assert call["headers"]["Content-Type"] == JSON_UTF8


def test_rate_limited_post_is_retried_and_lands_once(
    client: SlackClient, slack_state: SlackState, sandbox_server: tuple[str, Flask]
) -> None:
    app = sandbox_server[1]
    app.extensions["faults"].add(
        Fault("slack", "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "0"})
    )

    client.post_message("C0ACME0001", "hi")

    assert len(slack_state.messages("C0ACME0001")) == 1
    assert [c["status"] for c in app.extensions["calls"].of("slack", "chat.postMessage")] == [429, 200]


def test_server_error_is_transient(client: SlackClient, sandbox_server: tuple[str, Flask]) -> None:
    sandbox_server[1].extensions["faults"].add(Fault("slack", "chat.postMessage", 503, "unavailable"))
    with pytest.raises(TransientError):
        client.post_message("C0ACME0001", "hi")


def test_channel_info(client: SlackClient) -> None:
    info = client.channel_info("C0ACME0001")
    assert info["id"] == "C0ACME0001"
    assert info["name"] == "client-acme-dental"
    assert {"is_channel", "is_private", "is_archived", "is_member", "topic", "purpose"} <= set(info)
    with pytest.raises(VendorError, match="slack: channel_not_found"):
        client.channel_info("C0NOPE0000")


# -- conversations.list and auth.test ----------------------------------------------------


def test_conversations_list_pages_with_cursor(slack_api: str, slack_state: SlackState) -> None:
    for i in range(5):
        slack_state.add_channel(f"C0EXTRA00{i}", f"extra-{i}", is_archived=(i == 0))
    headers = {"Authorization": f"Bearer {SEED_TOKEN}"}

    names: list[str] = []
    cursor = ""
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = httpx.get(f"{slack_api}/conversations.list", params=params, headers=headers).json()
        assert body["ok"] is True
        assert len(body["channels"]) <= 2
        names += [c["name"] for c in body["channels"]]
        cursor = body["response_metadata"]["next_cursor"]
        pages += 1
        if not cursor:
            break

    assert pages == 4
    assert sorted(names) == sorted(["client-acme-dental", "ops"] + [f"extra-{i}" for i in range(5)])
    only_live = httpx.get(
        f"{slack_api}/conversations.list", params={"exclude_archived": "true", "limit": "100"}, headers=headers
    ).json()
    assert "extra-0" not in [c["name"] for c in only_live["channels"]]


@pytest.mark.parametrize(("params", "code"), [({"cursor": "%%%"}, "invalid_cursor"), ({"limit": "0"}, "invalid_limit")])
def test_conversations_list_errors(slack_api: str, params: dict[str, str], code: str) -> None:
    body = httpx.get(
        f"{slack_api}/conversations.list", params=params, headers={"Authorization": f"Bearer {SEED_TOKEN}"}
    ).json()
    assert_error_shape(body, code)


def test_auth_test(slack_api: str) -> None:
    body = raw_post(f"{slack_api}/auth.test", {})
    assert body["ok"] is True
    assert {"url", "team", "user", "team_id", "user_id", "bot_id"} <= set(body)
