"""Slack Web API client (chat.postMessage, conversations.info) and Block Kit helpers.

Slack answers logical failures with HTTP 200 and `{"ok": false, "error": code}`, so the
error mapping lives here, not in `http.send`: a few codes are worth a retry, the rest are
permanent. chat.postMessage has no idempotency key; callers record the returned `ts` and
skip the post when one is already recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from savedesk.errors import RateLimited, TransientError, VendorError
from savedesk.integrations.http import DEFAULT_TIMEOUT, json_request, require_json, retry_after_seconds, send

VENDOR = "slack"

# Slack-side trouble that a later attempt can get past; every other code is permanent
# (a missing channel or a revoked token does not fix itself).
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "request_timeout", "service_unavailable"}
)

# Block Kit limits (docs.slack.dev/reference/block-kit): over them Slack refuses the whole message.
HEADER_MAX_CHARS = 150
SECTION_MAX_CHARS = 3000
FIELD_MAX_CHARS = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
BUTTON_MAX_CHARS = 75


@dataclass(frozen=True)
class PostedMessage:
    """What identifies a posted message: keep it to thread replies and to skip re-posting."""

    channel: str
    ts: str


class SlackClient:
    """`base_url` includes `/api`: `https://slack.com/api` or the stand-in's `http://127.0.0.1:PORT/slack/api`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        http: httpx.Client | None = None,
        budget_seconds: Callable[[], float] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._budget_seconds = budget_seconds

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        """Post to a channel id (or a user id: Slack delivers it as a DM). `text` is the notification fallback."""
        payload: dict[str, Any] = {"channel": channel, "text": text}
        if blocks:
            payload["blocks"] = blocks
        if thread_ts:
            payload["thread_ts"] = thread_ts
        body = self._call("chat.postMessage", payload)
        posted_channel, ts = body.get("channel"), body.get("ts")
        if not isinstance(posted_channel, str) or not isinstance(ts, str):
            raise TransientError("slack: malformed chat.postMessage response (no channel/ts)")
        return PostedMessage(channel=posted_channel, ts=ts)

    def channel_info(self, channel: str) -> dict[str, Any]:
        """The channel object (id, name, is_archived, is_member, ...)."""
        body = self._call("conversations.info", {"channel": channel})
        info = body.get("channel")
        if not isinstance(info, dict):
            raise TransientError("slack: malformed conversations.info response (no channel)")
        return info

    def _call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        # JSON bodies need the bearer header; charset avoids Slack's missing_charset warning.
        request = json_request(
            self._http,
            "POST",
            f"{self._base_url}/{method}",
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json; charset=utf-8"},
            json_body=payload,
        )
        response = send(self._http, request, vendor=VENDOR, budget_seconds=self._budget_seconds)
        if not response.is_success:
            raise VendorError(f"slack: {method} HTTP {response.status_code}")
        body = require_json(response, vendor=VENDOR)
        ok = body.get("ok")
        if ok is True:
            return body
        if ok is not False:
            raise TransientError(f"slack: malformed {method} response (no ok)")
        code = str(body.get("error") or "unknown_error")
        if code in ("ratelimited", "rate_limited"):
            raise RateLimited(f"slack: {code}", retry_after=retry_after_seconds(response))
        if code in TRANSIENT_ERRORS:
            raise TransientError(f"slack: {code}", retry_after=retry_after_seconds(response))
        raise VendorError(f"slack: {code}")


# -- mrkdwn and Block Kit ----------------------------------------------------------------


def escape_mrkdwn(text: str) -> str:
    """Make client-typed text inert in mrkdwn.

    Slack's control sequences (`<!channel>`, `<@U123>`, `<http://x|label>`) all start with `<`,
    so escaping `&`, `<`, `>` as Slack documents stops a client's text from pinging everyone
    or disguising a link. `&` first, or the other escapes would be double-escaped.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    # Slack rejects the whole message when one text is too long; a clipped name is the lesser harm.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit) or " ", "emoji": True}


def _mrkdwn(text: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _clip(text, limit) or " "}


def header(text: str) -> dict[str, Any]:
    """A header block. Plain text, so no escaping is needed."""
    return {"type": "header", "text": _plain(text, HEADER_MAX_CHARS)}


def section(mrkdwn: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    """A section of mrkdwn composed by the caller: escape untrusted pieces with `escape_mrkdwn` first."""
    block: dict[str, Any] = {"type": "section", "text": _mrkdwn(mrkdwn, SECTION_MAX_CHARS)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields(pairs: Mapping[str, str]) -> dict[str, Any]:
    """A two-column section of facts: bold label, value below. Labels and values are escaped here."""
    items = [
        _mrkdwn(f"*{escape_mrkdwn(label)}*\n{escape_mrkdwn(value)}", FIELD_MAX_CHARS)
        for label, value in list(pairs.items())[:MAX_FIELDS]
    ]
    return {"type": "section", "fields": items}


def context(*mrkdwn: str) -> dict[str, Any]:
    """Small grey print under a message (ids, timestamps). Caller-composed mrkdwn, like `section`."""
    return {"type": "context", "elements": [_mrkdwn(t, SECTION_MAX_CHARS) for t in mrkdwn[:MAX_CONTEXT_ELEMENTS]]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(
    text: str,
    *,
    action_id: str,
    url: str | None = None,
    value: str | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    """A button element for `actions` (or a section accessory); `style` is "primary" or "danger"."""
    element: dict[str, Any] = {"type": "button", "text": _plain(text, BUTTON_MAX_CHARS), "action_id": action_id}
    if url is not None:
        element["url"] = url
    if value is not None:
        element["value"] = value
    if style is not None:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    """A row of buttons."""
    return {"type": "actions", "elements": list(elements)}
